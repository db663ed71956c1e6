from __future__ import annotations

from django.apps import AppConfig


class DjangoSseConfig(AppConfig):
    name = "django_sse"
    verbose_name = "Server-Sent Events"
    default_auto_field = "django.db.models.BigAutoField"
