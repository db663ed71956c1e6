"""Background jobs that report progress to their owner's pages.

Start one from a view, then run the work in a thread, a management command or a
task-queue worker::

    job = start_job(request.user, "import", total=50)
    run_in_background(import_rows, job.id)       # your queue of choice
    ...
    with JobReporter.resume(job_id) as job:       # in the worker
        for i, row in enumerate(rows, 1):
            if job.cancelled:
                return                            # ends as "cancelled"
            import_row(row)
            job.report(progress(i, len(rows), f"row {i}"))

Each update goes to the owner's user stream as an ephemeral ``job`` event, so ticks
are never stored one by one; the ``Job`` row keeps the latest state (saved at most
every ``SAVE_INTERVAL``), which a page reloaded mid-job reads at once from
``django_sse_progress:job``. The final state is a persistent event: a page that was away
when the job ended still gets it, exactly once, from the log.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from types import TracebackType
from typing import Any
from uuid import UUID

from django.utils import timezone

from django_sse.http import GENERIC_ERROR, EventStreamError, ServerSentEvent
from django_sse.progress.models import Job
from django_sse.publish import send_to_user

logger = logging.getLogger("django_sse.progress.jobs")

JOB_EVENT = "job"
JOB_ABANDONED_AFTER = timedelta(hours=6)  # a running job silent this long has died
SAVE_INTERVAL = 0.5  # seconds between saves of a running job's state
CANCEL_CHECK_INTERVAL = 0.5  # seconds between reads of the cancel flag


class JobReporter:
    """Reports one job's progress; sync, for threads, commands and workers."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._saved_at = -math.inf  # never: the first update saves, whatever the clock
        self._checked_at = -math.inf
        self._cancel_requested = job.cancel_requested

    @classmethod
    def resume(cls, job_id: UUID | str) -> JobReporter:
        return cls(Job.objects.get(pk=job_id))

    @property
    def id(self) -> UUID:
        return self.job.id

    def update(self, **state: Any) -> None:
        """Merge ``state`` into the job's state and tell the owner's pages."""
        self._merge(state)
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self._save()
        self._publish(persist=False)

    def report(self, event: ServerSentEvent) -> None:
        """Take a progress vocabulary event (``progress()``, ``Phases.update()``...)."""
        if not isinstance(event.data, dict):
            raise TypeError("report() takes an event whose data is a dict")
        self.update(**event.data)

    @property
    def cancelled(self) -> bool:
        """Whether the owner asked to cancel (read at most every 0.5 s)."""
        if time.monotonic() - self._checked_at >= CANCEL_CHECK_INTERVAL:
            self._checked_at = time.monotonic()
            flag = Job.objects.filter(pk=self.job.pk).values_list("cancel_requested", flat=True)
            self._cancel_requested = bool(flag.get())
        return self._cancel_requested

    def finish(self, **state: Any) -> None:
        self._checked_at = -math.inf  # a cancel that came in just now still counts
        self._end(Job.CANCELLED if self.cancelled else Job.SUCCEEDED, state)

    def fail(self, message: str) -> None:
        self._end(Job.FAILED, {"error": message})

    def _merge(self, state: dict[str, Any]) -> None:
        # `version` only grows: a page orders a state it read against a live tick.
        version = int(self.job.state.get("version", 0)) + 1
        self.job.state.update(state, version=version)

    def _end(self, status: str, state: dict[str, Any]) -> None:
        if self.job.status != Job.RUNNING:
            return
        self.job.status = status
        self._merge(state)
        self._save()
        self._publish(persist=True)

    def _save(self) -> None:
        self._saved_at = time.monotonic()
        self.job.updated = timezone.now()
        self.job.save(update_fields=["status", "state", "updated"])

    def _publish(self, persist: bool) -> None:
        send_to_user(self.job.owner_id, self.job.as_dict(), event=JOB_EVENT, persist=persist)

    def __enter__(self) -> JobReporter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.finish()
        elif isinstance(exc, EventStreamError):
            self.fail(str(exc))
        else:
            logger.error("job %s failed", self.job.pk, exc_info=exc)
            self.fail(GENERIC_ERROR)


def start_job(owner: Any, name: str, **state: Any) -> JobReporter:
    """Create a running job owned by ``owner`` and announce it to the owner's pages."""
    if not getattr(owner, "is_authenticated", False) or owner.pk is None:
        raise ValueError("a job needs an authenticated, saved owner")
    reporter = JobReporter(Job.objects.create(owner=owner, name=name, state=state))
    reporter.update()
    return reporter


def request_cancel(job_id: UUID | str, user: Any) -> bool:
    """Ask a running job of ``user`` to stop; False if there is none."""
    running = Job.objects.filter(pk=job_id, owner_id=user.pk, status=Job.RUNNING)
    return bool(running.update(cancel_requested=True))


def fail_abandoned_jobs(sender: object = None, **kwargs: Any) -> int:
    """A job whose process died would say "running" forever: mark it failed.

    Connected to ``django_sse.signals.log_pruned``, so ``manage.py sse_prune`` runs it.
    """
    silent = Job.objects.filter(
        status=Job.RUNNING, updated__lt=timezone.now() - JOB_ABANDONED_AFTER
    )
    failed = 0
    for job in silent:
        job.status = Job.FAILED
        job.state = {**job.state, "error": "The job stopped answering."}
        job.save(update_fields=["status", "state"])
        failed += 1
    return failed
