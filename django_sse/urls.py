from __future__ import annotations

from django.urls import path

from django_sse import health, metrics, views

app_name = "django_sse"

urlpatterns = [
    path("", views.stream, name="stream"),
    path("health/live/", health.live, name="live"),
    path("health/ready/", health.ready, name="ready"),
    path("metrics/", metrics.metrics, name="metrics"),
]
