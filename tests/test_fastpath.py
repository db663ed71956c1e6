"""The pooled handler's fast path: taken for the endpoint, and it answers as Django's does.

Each answer is asked of a handler with ``SSE_FAST_PATH`` and of one without, and must
come back the same, byte for byte; real servers take the fast path through the whole
end-to-end suite (tests/server uses Django's stock middleware).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.test import AsyncClient, override_settings

import django_sse
from django_sse.asgi import PooledASGIHandler
from django_sse.delivery.hub import get_hub
from django_sse.publish import aclose_user_streams
from django_sse.server import fastpath
from django_sse.testing import open_stream
from tests.asgikit import ask, ask_both, count_hops, handlers, header
from tests.hubkit import eventually

pytestmark = pytest.mark.django_db(transaction=True)  # the endpoint reads on worker threads


# Taken, or not ------------------------------------------------------------------


async def test_an_anonymous_stream_opens_and_closes_without_a_thread_hop() -> None:
    fast, slow = handlers()
    counted = []
    for handler in (fast, slow):
        hops = count_hops(handler)
        async with open_stream(application=handler) as stream:
            counted.append(len(hops))  # request_started (and 5 middleware hooks)
        await eventually(lambda: get_hub().stats()["subscriptions"] == 0)
        counted.append(len(hops))  # + request_finished
        assert stream.retry == 3000
    assert counted == [0, 0, 6, 7]  # Django's own receivers need no thread of this request
    assert fast.fast_path is not None and fast.fast_path.requests == 1


async def test_other_paths_take_djangos_path() -> None:
    fast, _ = handlers()
    assert fast.fast_path is not None
    answer = await ask(fast, path="/thread/")
    assert (answer.status, answer.body) == (200, b"django-sse-0_0")
    assert fast.fast_path.requests == 0


# The same answers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"method": "HEAD"},
        {"method": "OPTIONS", "headers": {"origin": "https://app.example.com"}},
        {"method": "POST"},
        {"headers": {"accept": "application/json"}},
    ],
    ids=["stream", "head", "options", "post", "json"],
)
async def test_the_endpoints_answers_are_the_same(settings: Any, request_: Any) -> None:
    settings.SSE_CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    answer = await ask_both(**request_)
    assert answer.status in (200, 204, 405, 406)


async def test_anonymous_refused_when_not_allowed(settings: Any) -> None:
    settings.SSE_ALLOW_ANONYMOUS = False
    answer = await ask_both()
    assert (answer.status, answer.body) == (403, b"Authentication required.")


async def test_a_replay_over_64_kib_is_split_as_django_splits_it() -> None:
    async with open_stream() as stream:
        await django_sse.abroadcast("start")
        (start,) = await stream.read(1)
    for _ in range(3):
        await django_sse.abroadcast("x" * 30_000)
    answer = await ask_both(headers={"last-event-id": start.id})
    assert answer.messages == 2  # one first chunk of about 90 KB: 64 KiB, then the rest
    assert answer.body.count(b"data: " + b"x" * 30_000) == 3


async def test_a_body_a_middleware_wraps_is_sent_djangos_way(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    settings.SSE_FAST_PATH_MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware"]
    fast, _ = handlers()
    answer = await ask(fast, headers={"accept-encoding": "gzip"})
    assert (answer.status, header(answer, "content-encoding")) == (200, "gzip")
    assert answer.body.startswith(b"\x1f\x8b")  # gzip's magic
    assert fast.fast_path is not None and fast.fast_path.requests == 1


# Users, signals, cleanup --------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["fast", "django"])
def handler(request: pytest.FixtureRequest) -> Iterator[PooledASGIHandler]:
    with override_settings(SSE_FAST_PATH=request.param):
        handler = PooledASGIHandler()
    assert (handler.fast_path is not None) == request.param
    yield handler
    for executor in handler.executors:
        executor.shutdown(wait=False)


async def test_a_logged_in_user_gets_its_stream(handler: PooledASGIHandler) -> None:
    alice = await User.objects.acreate(username="alice")
    async with open_stream(user=alice, application=handler) as stream:
        await django_sse.asend_to_user(alice, "for alice")
        (event,) = await stream.read(1)
    assert event.data == "for alice"


async def test_logout_closes_that_sessions_stream(handler: PooledASGIHandler) -> None:
    alice = await User.objects.acreate(username="alice")
    client = AsyncClient()
    await client.aforce_login(alice)
    session = client.cookies["sessionid"].value
    cookie = {"cookie": f"sessionid={session}"}
    task = asyncio.create_task(ask(handler, headers=cookie, leave=False))
    await eventually(lambda: get_hub().stats()["subscriptions"] == 1)
    await aclose_user_streams(alice, session)
    answer = await asyncio.wait_for(task, 5)  # ended by the server, not the client
    assert answer.status == 200
    await eventually(lambda: get_hub().stats()["subscriptions"] == 0)


async def test_signals_once_each_and_the_hub_freed(handler: PooledASGIHandler) -> None:
    sent: list[str] = []

    def started(sender: Any, **kwargs: Any) -> None:
        sent.append("started")

    def finished(sender: Any, **kwargs: Any) -> None:
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        async with open_stream(application=handler):
            assert get_hub().stats()["subscriptions"] == 1
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert sent == ["started", "finished"]
    await eventually(lambda: get_hub().stats()["subscriptions"] == 0)


async def test_a_project_without_the_app_takes_djangos_path(settings: Any) -> None:
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django_sse"]
    assert PooledASGIHandler().fast_path is None  # the bench's naive view does this


async def test_a_django_of_another_shape_takes_djangos_path_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Setting the fast path up reads Django internals; if one changed, the server still
    starts, and streams take Django's own path."""

    def changed(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError("'MiddlewareMixin' object has no attribute 'async_mode'")

    monkeypatch.setattr(fastpath, "load_layers", changed)
    with caplog.at_level("WARNING", "django_sse.server.fastpath"):
        handler = PooledASGIHandler()
    assert handler.fast_path is None
    assert "fast path is off" in caplog.records[0].getMessage()
    async with open_stream(application=handler) as stream:
        await django_sse.abroadcast("still served")
        (event,) = await stream.read(1)
    assert event.data == "still served"
