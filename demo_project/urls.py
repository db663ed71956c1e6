from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

from demo_project import progress_views, rooms, views

urlpatterns = [
    path("", views.notifications, name="index"),
    path("notify/", views.notify, name="notify"),
    path("notifications/read/", views.mark_read, name="mark_read"),
    path("feed/", views.feed, name="feed"),
    path("recovery/", views.recovery, name="recovery"),
    path("progress/batch/", progress_views.batch, name="batch"),
    path("progress/batch/run/", progress_views.batch_run, name="batch_run"),
    path("progress/phases/", progress_views.phases, name="phases"),
    path("progress/phases/run/", progress_views.phases_run, name="phases_run"),
    path("progress/jobs/", progress_views.jobs, name="jobs"),
    path("progress/jobs/<uuid:job_id>/", progress_views.export_job, name="export_job"),
    path("room/", rooms.room, name="room"),
    path("room/kick/", rooms.kick, name="kick"),
    path("htmx/", views.htmx_page, name="htmx"),
    path("htmx/send/", views.htmx_send, name="htmx_send"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("events/jobs/", include("django_sse.progress.urls")),  # background jobs
    path("events/", include("django_sse.urls")),
]
# `make demo` runs daphne directly, which serves no static files (DEBUG only).
urlpatterns += staticfiles_urlpatterns()
