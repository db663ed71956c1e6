"""The demo's Celery tasks (``demo_project.celery``)."""

from __future__ import annotations

from celery import shared_task

from demo_project import work


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def export_records(job_id: str) -> None:
    """The background export, on a worker: progress to its page, a notification at the end."""
    work.export_records(job_id)
