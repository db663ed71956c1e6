from __future__ import annotations

from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "django_sse.progress"
    label = "django_sse_progress"
    verbose_name = "Server-Sent Events: background jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_sse.progress.jobs import fail_abandoned_jobs
        from django_sse.signals import log_pruned

        log_pruned.connect(fail_abandoned_jobs, dispatch_uid="django_sse.progress.abandoned")
