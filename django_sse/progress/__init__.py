"""Progress and background jobs: an optional part of django-sse.

The vocabulary (``progress``, ``Phases``, ``log``, ``BatchResult``) needs nothing
installed: yield it from an ``EventStreamResponse``. Background jobs, whose state
outlives the page, need ``"django_sse.progress"`` in ``INSTALLED_APPS`` (for the
``Job`` model) and ``django_sse.progress.urls`` included (for a job's state and its
cancel button). See docs/progress.md.

Importing this package loads nothing: the names below are looked up on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_sse.exports import lookup

if TYPE_CHECKING:
    from django_sse.progress.jobs import JobReporter, request_cancel, start_job
    from django_sse.progress.vocabulary import BatchResult, Phases, log, percent_of, progress

_HOMES = {
    "BatchResult": "vocabulary",
    "Phases": "vocabulary",
    "log": "vocabulary",
    "percent_of": "vocabulary",
    "progress": "vocabulary",
    "JobReporter": "jobs",
    "request_cancel": "jobs",
    "start_job": "jobs",
}
__all__ = [
    "BatchResult",
    "JobReporter",
    "Phases",
    "log",
    "percent_of",
    "progress",
    "request_cancel",
    "start_job",
]


def __getattr__(name: str) -> Any:
    return lookup(__name__, _HOMES, name)
