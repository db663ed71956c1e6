"""Test-only work behind EventStreamResponse and background jobs, with observable effects."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.urls import path

from django_sse.http import EventStreamError, EventStreamResponse, ServerSentEvent
from django_sse.progress.jobs import JobReporter, start_job
from django_sse.progress.vocabulary import BatchResult, Phases, log, progress

# What the work did, by token, so a test can see that an abort stopped it.
EFFECTS: dict[str, dict[str, Any]] = {}


def csrf(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"token": get_token(request)})


async def batch_work(
    token: str, n: int, fail_at: int, delay: float, safe: bool
) -> AsyncIterator[Any]:
    effects = EFFECTS[token] = {"done": 0, "stopped": False}
    tally = BatchResult()
    try:
        yield log(f"importing {n} items")
        for i in range(1, n + 1):
            await asyncio.sleep(delay)
            if i == fail_at:
                raise EventStreamError(f"item {i} is invalid") if safe else RuntimeError("secret")
            tally.succeeded += 1
            effects["done"] = i
            yield progress(i, n, f"item {i}")
        yield tally.event()
    finally:
        effects["stopped"] = True  # runs whether the work ended, failed or was cancelled


async def batch(request: HttpRequest) -> EventStreamResponse:
    q = request.GET
    work = batch_work(
        q["token"],
        int(q.get("n", 5)),
        int(q.get("fail_at", 0)),
        float(q.get("delay", 0)),
        q.get("safe") == "1",
    )
    return EventStreamResponse(work, heartbeat=float(q.get("heartbeat", 15)))


async def phased_work(silence: float) -> AsyncIterator[ServerSentEvent]:
    phases = Phases({"validate": 10, "process": 70, "finalize": 20})
    yield phases.update("validate", 1.0)
    await asyncio.sleep(silence)  # a silent phase: heartbeats keep the line alive
    yield phases.update("process", 0.5)
    yield phases.update("finalize", 1.0)


async def phased(request: HttpRequest) -> EventStreamResponse:
    silence = float(request.GET.get("silence", 0))
    return EventStreamResponse(phased_work(silence), heartbeat=0.1)


def effects(request: HttpRequest, token: str) -> JsonResponse:
    return JsonResponse(EFFECTS.get(token, {}))


def _run_job(job_id: str, n: int, delay: float) -> None:
    with JobReporter.resume(job_id) as job:
        for i in range(1, n + 1):
            if job.cancelled:
                return
            time.sleep(delay)
            job.report(progress(i, n, f"row {i}"))
            EFFECTS[job_id] = {"done": i}


def start(request: HttpRequest) -> JsonResponse:
    n, delay = int(request.GET.get("n", 20)), float(request.GET.get("delay", 0.05))
    job = start_job(request.user, "import", total=n)
    threading.Thread(target=_run_job, args=(str(job.id), n, delay), daemon=True).start()
    return JsonResponse({"id": str(job.id)})


urlpatterns = [
    path("csrf/", csrf),
    path("batch/", batch),
    path("phased/", phased),
    path("effects/<str:token>/", effects),
    path("jobs/start/", start),
]
