"""The progress vocabulary, EventStreamResponse's refusals, and the job reporter."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import override_settings

from django_sse.http import EventStreamResponse, ServerSentEvent
from django_sse.models import read_after
from django_sse.progress import jobs
from django_sse.progress import jobs as jobs_module
from django_sse.progress.jobs import JobReporter, request_cancel, start_job
from django_sse.progress.models import Job
from django_sse.progress.vocabulary import BatchResult, Phases, log, percent_of, progress
from django_sse.testing import capture_events


def test_progress_counts_and_percent() -> None:
    assert progress(3, 12, "row 3") == ServerSentEvent(
        {"current": 3, "total": 12, "percent": 25.0, "message": "row 3"}, "progress"
    )
    assert progress(5, None).data == {"current": 5, "total": None, "percent": None, "message": ""}
    assert (percent_of(20, 10), percent_of(-1, 10), percent_of(1, 0)) == (100.0, 0.0, None)


def test_phases_weigh_earlier_phases_as_done() -> None:
    phases = Phases({"validate": 1, "process": 7, "finalize": 2})
    assert phases.update("process", 0.5, "half").data == {
        "phase": "process",
        "phase_progress": 0.5,
        "overall_progress": 0.45,
        "percent": 45.0,
        "message": "half",
    }
    finished = phases.update("finalize", 2.0).data  # clamped
    assert finished == {
        "phase": "finalize",
        "phase_progress": 1.0,
        "overall_progress": 1.0,
        "percent": 100.0,
        "message": "",
    }


@pytest.mark.parametrize("weights", [{}, {"a": 0}, {"a": -1, "b": 2}])
def test_phases_refuse_weights_that_make_no_sense(weights: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive weights"):
        Phases(weights)


def test_an_unknown_phase_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown phase 'ship'; phases are \\['make'\\]"):
        Phases({"make": 1}).update("ship", 0.1)


def test_log_lines_and_batch_results() -> None:
    assert log("3 skipped", "warning") == ServerSentEvent(
        {"message": "3 skipped", "level": "warning"}, "log"
    )
    tally = BatchResult(succeeded=2)
    tally.fail("row 3: bad date")
    assert tally.event().data == {"succeeded": 2, "failed": 1, "errors": ["row 3: bad date"]}


def test_a_sync_iterator_is_refused() -> None:
    with pytest.raises(TypeError, match="needs an async iterable"):
        EventStreamResponse(iter([1, 2]))  # type: ignore[arg-type]


async def test_the_response_has_stream_headers() -> None:
    async def nothing() -> AsyncIterator[Any]:
        return
        yield

    response = EventStreamResponse(nothing())
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache" and response["X-Accel-Buffering"] == "no"
    body = b"".join([chunk async for chunk in response])
    assert body == b'retry: 3000\n\n: started\n\nevent: done\ndata: {"status": "succeeded"}\n\n'


@pytest.mark.django_db(transaction=True)
@override_settings(SSE_CHANNEL_LAYER="default")
def test_a_job_ticks_live_and_stores_only_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "SAVE_INTERVAL", 3600)  # only start and end are saved
    user = User.objects.create(username="worker")
    with capture_events() as published:
        job = start_job(user, "import", total=3)
        with JobReporter.resume(job.id) as running:
            for i in (1, 2, 3):
                running.report(progress(i, 3))
    assert [(e.event, e.seq) for e in published] == [("job", None)] * 4 + [("job", 1)]
    assert published[-1].json()["status"] == "succeeded"
    stored = read_after(f"user:{user.pk}", 0, 10)
    assert len(stored) == 1  # ticks were never stored one by one
    assert Job.objects.get().as_dict() == {
        "id": str(job.id),
        "name": "import",
        "status": "succeeded",
        "total": 3,
        "current": 3,
        "percent": 100.0,
        "message": "",
        "version": 5,
    }


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_ends_failed_with_a_safe_message() -> None:
    user = User.objects.create(username="worker")
    job = start_job(user, "export")
    with pytest.raises(KeyError), JobReporter.resume(job.id):
        raise KeyError("internal detail")
    assert Job.objects.get().state == {"error": "The operation failed.", "version": 2}
    assert Job.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_cancel_is_for_the_owner_of_a_running_job() -> None:
    owner, other = User.objects.create(username="o"), User.objects.create(username="x")
    job = start_job(owner, "export")
    assert request_cancel(job.id, other) is False
    assert request_cancel(job.id, owner) is True
    assert JobReporter.resume(job.id).cancelled is True


def test_a_job_needs_a_real_owner() -> None:
    with pytest.raises(ValueError, match="authenticated, saved owner"):
        start_job(AnonymousUser(), "import")


@pytest.mark.django_db(transaction=True)
def test_report_takes_dict_events_only() -> None:
    job = start_job(User.objects.create(username="w"), "x")
    with pytest.raises(TypeError, match="data is a dict"):
        job.report(ServerSentEvent("text"))


@pytest.mark.django_db(transaction=True)
def test_a_cancel_just_before_the_end_still_counts() -> None:
    owner = User.objects.create(username="o")
    job = start_job(owner, "export")
    running = JobReporter.resume(job.id)
    assert running.cancelled is False  # read now: the next read is 0.5 s away
    request_cancel(job.id, owner)
    running.finish()
    assert Job.objects.get().status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_prune_fails_jobs_whose_worker_died() -> None:
    from django.core.management import call_command
    from django.utils import timezone

    job = start_job(User.objects.create(username="o"), "export")
    Job.objects.update(updated=timezone.now() - jobs_module.JOB_ABANDONED_AFTER * 2)
    start_job(User.objects.get(), "fresh")
    call_command("sse_prune", stdout=io.StringIO())
    statuses = dict(Job.objects.values_list("name", "status"))
    assert statuses == {"export": "failed", "fresh": "running"}
    assert Job.objects.get(pk=job.id).state["error"] == "The job stopped answering."
