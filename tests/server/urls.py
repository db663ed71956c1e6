from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from tests.server import views

urlpatterns = [
    path("events/jobs/", include("django_sse.progress.urls")),  # background jobs
    path("events/", include("django_sse.urls")),
    path("admin/", admin.site.urls),
    path("test/login/<str:username>/", views.login_as),
    path("test/publish/", views.publish),
    path("test/hub/", views.hub),
    path("test/presence/", views.presence),
    path("test/token/", views.token),
    path("test/revoke/", views.revoke),
    path("test/prune/", views.prune),
    path("test/chunks/", views.chunks),
]

# The browser tests' page, static files and streams (tests/server/browser.py).
urlpatterns += [path("test/browser/", include("tests.server.browser"))]

# Progress streams and background jobs (tests/server/progress.py).
urlpatterns += [path("test/progress/", include("tests.server.progress"))]

handler403 = "tests.server.views.forbidden"  # a project's own 403 page
