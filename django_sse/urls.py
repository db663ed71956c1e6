from __future__ import annotations

from django.urls import path

from django_sse import views

app_name = "django_sse"

urlpatterns = [
    path("", views.stream, name="stream"),
]
