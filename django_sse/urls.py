from __future__ import annotations

from django.urls import path

from django_sse import job_views, views

app_name = "django_sse"

urlpatterns = [
    path("", views.stream, name="stream"),
    path("jobs/<uuid:job_id>/", job_views.job_state, name="job"),
    path("jobs/<uuid:job_id>/cancel/", job_views.cancel_job, name="job_cancel"),
]
