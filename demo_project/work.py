"""The long work behind the progress demos, pretend but honest about what it did.

``import_items`` and ``build_report`` run inside a POST request, behind an
``EventStreamResponse``: when the page cancels (its ``AbortController``), the
work is cancelled at its current ``await`` and its ``finally`` records the run as
cancelled. ``export_records`` is a background job: it runs in a thread and
reports to its owner's pages through ``JobReporter``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from django.conf import settings
from django.db import connections
from django.db.models import F

from demo_project.models import ImportRun, notify
from django_sse import asend_to_user
from django_sse.http import ServerSentEvent
from django_sse.progress import BatchResult, JobReporter, Phases, log, progress

STEP_DELAY = 0.12  # seconds of pretend work per step; tests set DEMO_STEP_DELAY
BATCH_SIZE = 50  # items the batch import demo imports
# Items that fail on purpose, with the reason the page shows.
BAD_ITEMS = {7: "missing price", 19: "duplicate SKU", 33: "unknown category"}
PHASES = {"validate": 10, "process": 70, "finalize": 20}  # weights, in percent
PHASE_STEPS = {"validate": 8, "process": 35, "finalize": 6}  # steps of pretend work each
EXPORT_STEPS = 100  # records the background export job writes


def step_delay() -> float:
    return float(getattr(settings, "DEMO_STEP_DELAY", STEP_DELAY))


async def import_items(run_id: int, total: int = BATCH_SIZE) -> AsyncIterator[ServerSentEvent]:
    """Import ``total`` items, some failing; count each one on the run as it happens."""
    runs = ImportRun.objects.filter(pk=run_id)
    tally = BatchResult()
    outcome = ImportRun.CANCELLED  # unless the loop gets to the end, or raises
    try:
        yield ServerSentEvent({"id": run_id}, event="run")  # which row of "Recent runs" is this
        yield log(f"Importing {total} items")
        for number in range(1, total + 1):
            await asyncio.sleep(step_delay())
            if number in BAD_ITEMS:
                tally.fail(f"item {number}: {BAD_ITEMS[number]}")
                await runs.aupdate(failed=F("failed") + 1)
                yield log(tally.errors[-1], "error")
            else:
                tally.succeeded += 1
                await runs.aupdate(imported=F("imported") + 1)
            yield progress(number, total, f"Item {number} of {total}")
        outcome = ImportRun.SUCCEEDED
        yield tally.event()
    except Exception:
        outcome = ImportRun.FAILED
        raise
    finally:
        # Also when cancelled: awaiting here is allowed, only yielding is not. The owner's
        # pages hear how the run ended, with the counts the work recorded: a page that
        # cancelled shows those, not the last tick it happened to receive.
        await runs.aupdate(status=outcome)
        run = await runs.select_related("owner").aget()
        await asend_to_user(run.owner, run.as_event(), event="import_run")


async def build_report() -> AsyncIterator[ServerSentEvent]:
    """Work in three weighted phases: validate 10%, process 70%, finalize 20%."""
    phases = Phases(PHASES)
    for phase, steps in PHASE_STEPS.items():
        yield log(f"{phase.capitalize()}: {steps} steps")
        for step in range(1, steps + 1):
            await asyncio.sleep(step_delay())
            yield phases.update(phase, step / steps, f"{phase} {step} of {steps}")
    yield log("Report ready")


def export_records(job_id: str, total: int = EXPORT_STEPS) -> None:
    """A background job (in a thread, or a Celery task): write ``total`` records, or stop
    when cancelled; the owner gets a notification when it is done."""
    try:
        with JobReporter.resume(job_id) as job:
            for record in range(1, total + 1):
                if job.cancelled:
                    job.update(message=f"Cancelled after {record - 1} of {total} records")
                    return  # the reporter ends the job as "cancelled"
                time.sleep(step_delay())
                job.report(progress(record, total, f"Exported record {record} of {total}"))
            job.finish(message=f"Exported {total} records")
        owner = job.job.owner
        notify(owner, owner, f"Your export of {total} records is ready.")
    finally:
        connections.close_all()  # this thread's own: nothing else will close them
