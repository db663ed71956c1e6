"""A job's state and its cancel button: ``path("events/jobs/", include(...))``."""

from __future__ import annotations

from django.urls import path

from django_sse.progress import views

app_name = "django_sse_progress"

urlpatterns = [
    path("<uuid:job_id>/", views.job_state, name="job"),
    path("<uuid:job_id>/cancel/", views.cancel_job, name="job_cancel"),
]
