from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("events/", include("django_sse.urls"))]
