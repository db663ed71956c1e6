from __future__ import annotations

from django.apps import AppConfig
from django.core.checks import register


class DjangoSseConfig(AppConfig):
    name = "django_sse"
    verbose_name = "Server-Sent Events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from django_sse import checks
        from django_sse.auth import close_streams_on_logout
        from django_sse.server import checks as server_checks

        for check in (*checks.CHECKS, *server_checks.CHECKS):
            register(check, checks.TAG)
        user_logged_out.connect(close_streams_on_logout, dispatch_uid="django_sse.logout")

        from django_sse import metrics

        if metrics.available():  # the [metrics] extra: hook it in; without it, no cost
            metrics.install()
