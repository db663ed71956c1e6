"""The endpoint's request thread: Django's own request signals run on it only when it is used."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started

import django_sse
from django_sse.asgi import PooledASGIHandler
from django_sse.delivery.hub import get_hub
from django_sse.server import request_thread
from django_sse.server.request_thread import RequestThread, only_thread_bound
from django_sse.testing import open_stream
from tests.hubkit import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
    yield pool
    pool.shutdown()


def test_the_start_runs_once_on_the_thread_before_the_first_job(
    executor: ThreadPoolExecutor,
) -> None:
    ran: list[tuple[str, str]] = []
    thread = RequestThread(executor, lambda: ran.append(("start", threading.current_thread().name)))
    assert not thread.used and ran == []
    for job in ("first", "second"):
        thread.submit(lambda job=job: ran.append((job, threading.current_thread().name))).result()
    assert [what for what, _ in ran] == ["start", "first", "second"]
    assert {name for _, name in ran} == {"request_0"} and thread.used


def test_an_error_of_the_start_is_the_first_jobs_error(executor: ThreadPoolExecutor) -> None:
    def start() -> None:
        raise RuntimeError("the database is gone")

    thread = RequestThread(executor, start)
    with pytest.raises(RuntimeError, match="the database is gone"):
        thread.submit(lambda: "never").result()
    assert thread.submit(lambda: "after").result() == "after"  # the start ran once


def test_only_djangos_receivers_are_thread_bound() -> None:
    assert only_thread_bound(request_started, PooledASGIHandler)
    assert only_thread_bound(request_finished, PooledASGIHandler)

    def metrics(sender: Any, **kwargs: Any) -> None: ...

    async def tracing(sender: Any, **kwargs: Any) -> None: ...

    for receiver in (metrics, tracing):
        request_started.connect(receiver)
        try:
            assert not only_thread_bound(request_started, PooledASGIHandler)
        finally:
            request_started.disconnect(receiver)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """A receiver of both signals that counts as Django's own: where it ran, and when."""
    ran: list[tuple[str, str]] = []

    def spy(sender: Any, signal: Any, **kwargs: Any) -> None:
        which = "started" if signal is request_started else "finished"
        ran.append((which, threading.current_thread().name))

    monkeypatch.setattr(request_thread, "THREAD_BOUND", request_thread.THREAD_BOUND | {spy})
    request_started.connect(spy)
    request_finished.connect(spy)
    yield ran
    request_started.disconnect(spy)
    request_finished.disconnect(spy)


async def test_a_stream_that_needs_no_thread_sends_neither_signal(
    calls: list[tuple[str, str]],
) -> None:
    async with open_stream() as stream:
        await django_sse.abroadcast("hi")
        (event,) = await stream.read(1)
    await eventually(lambda: get_hub().stats()["subscriptions"] == 0)
    assert event.data == "hi" and calls == []


async def test_a_session_read_on_the_thread_is_preceded_and_followed_by_the_signals(
    calls: list[tuple[str, str]],
) -> None:
    alice = await User.objects.acreate(username="alice")
    handler = PooledASGIHandler()
    async with open_stream(user=alice, application=handler):  # its session is in the database
        assert [which for which, _ in calls] == ["started"]
    await eventually(lambda: len(calls) == 2)
    (started, started_on), (finished, finished_on) = calls
    assert (started, finished) == ("started", "finished")
    assert started_on.startswith("django-sse-") and finished_on.startswith("django-sse-")


def test_a_signal_of_another_shape_is_sent_as_django_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(request_started, "_live_receivers", lambda sender: [], raising=False)
    assert not only_thread_bound(request_started, PooledASGIHandler)
