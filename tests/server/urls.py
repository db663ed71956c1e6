from __future__ import annotations

from django.urls import include, path

from tests.server import views

urlpatterns = [
    path("events/", include("django_sse.urls")),
    path("test/login/<str:username>/", views.login_as),
    path("test/publish/", views.publish),
    path("test/hub/", views.hub),
    path("test/prune/", views.prune),
]

# The browser tests' page, static files and streams (tests/server/browser.py).
urlpatterns += [path("test/browser/", include("tests.server.browser"))]

# Progress streams and background jobs (tests/server/progress.py).
urlpatterns += [path("test/progress/", include("tests.server.progress"))]
