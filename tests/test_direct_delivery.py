"""Live frames written by the hub through the response's send, on the pooled handler's fast path.

Real servers take this path in every end-to-end test; here a send that the test can
pause stands in for a client that stops reading (uvicorn's backpressure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from django.test import override_settings

import django_sse
from django_sse import models
from django_sse.asgi import PooledASGIHandler
from django_sse.delivery.connection import DIRECT_MAX
from django_sse.delivery.db import run_db
from django_sse.delivery.hub import get_hub
from django_sse.testing import http_scope
from django_sse.typing import Message
from django_sse.wire import HEARTBEAT, encode_event
from tests.hubkit import eventually
from tests.test_wire import Parsed

pytestmark = pytest.mark.django_db(transaction=True)


class Client:
    """One stream's client: what it has read, and whether it reads at all."""

    def __init__(self) -> None:
        self.raw = b""
        self.bodies = 0
        self.reading = asyncio.Event()
        self.reading.set()
        self.gone = asyncio.Event()
        self.tasks: set[asyncio.Task[Any] | None] = set()  # tasks that called send
        self.by_task: dict[asyncio.Task[Any] | None, int] = {}  # body messages per task
        self.asked = False

    async def send(self, message: Message) -> None:
        self.tasks.add(asyncio.current_task())
        if message["type"] == "http.response.body":
            task = asyncio.current_task()
            self.by_task[task] = self.by_task.get(task, 0) + 1
            await self.reading.wait()  # never suspends while the client reads
            self.raw += message.get("body", b"")
            self.bodies += 1

    async def receive(self) -> dict[str, Any]:
        if not self.asked:
            self.asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    def data(self) -> list[str]:
        return [data for _, data, _ in Parsed(self.raw).events]


@asynccontextmanager
async def streaming(handler: PooledASGIHandler) -> AsyncIterator[tuple[Client, asyncio.Task[None]]]:
    client = Client()
    headers = [(b"host", b"testserver"), (b"accept", b"text/event-stream")]
    task = asyncio.create_task(
        handler(http_scope("/events/", (), headers), client.receive, client.send)
    )
    try:
        await eventually(lambda: client.bodies == 1)  # the first chunk: live
        yield client, task
    finally:
        client.reading.set()
        client.gone.set()
        await asyncio.wait_for(task, 5)


async def until(check: Callable[[], bool]) -> None:
    await eventually(check, timeout=5)


async def test_frames_are_written_by_the_fan_out_not_the_streams_task() -> None:
    async with streaming(PooledASGIHandler()) as (client, task):
        for i in range(3):
            await django_sse.abroadcast(f"e{i}")
        await until(lambda: client.data() == ["e0", "e1", "e2"])
        writers = client.tasks - {task}
    assert len(writers) == 1  # the hub's receiver wrote the frames; the stream's task slept


async def test_a_client_that_pushes_back_gets_every_frame_once_in_order() -> None:
    async with streaming(PooledASGIHandler()) as (client, _):
        await django_sse.abroadcast("before")
        await until(lambda: client.data() == ["before"])
        client.reading.clear()  # the server holds the next write
        for i in range(5):  # the first suspends in the fan-out; the rest queue behind it
            await django_sse.abroadcast(f"held {i}")
        await asyncio.sleep(0.05)
        assert client.data() == ["before"]
        client.reading.set()
        await until(lambda: len(client.data()) == 6)
        await django_sse.abroadcast("after")
        await until(lambda: len(client.data()) == 7)
    events = Parsed(client.raw).events
    assert [data for _, data, _ in events] == ["before", *[f"held {i}" for i in range(5)], "after"]
    assert len({event_id for _, _, event_id in events}) == 7


async def test_a_frame_after_a_gap_is_left_to_the_task_which_reads_the_gap() -> None:
    async with streaming(PooledASGIHandler()) as (client, _):
        first, second = [await run_db(models.append, "broadcast", "message", d) for d in "ab"]
        (sub,) = {s for state in get_hub()._streams.values() for s in state.subs}
        sub.push("broadcast", second, encode_event("b"))  # as if the ring of `a` were lost
        await until(lambda: client.data() == ["a", "b"])
    assert Parsed(client.raw).events[-1][2].endswith(f".{second}")
    assert first == second - 1


async def test_a_frame_near_the_size_limit_goes_through_the_task() -> None:
    big = "x" * (DIRECT_MAX + 100)  # may need splitting with its id line: the task decides
    async with streaming(PooledASGIHandler()) as (client, task):
        await django_sse.abroadcast(big)
        await django_sse.abroadcast("small")
        await until(lambda: len(client.data()) == 2)
    assert client.data() == [big, "small"]
    assert client.by_task[task] == 2  # the first chunk and the big frame


async def test_a_write_held_past_the_send_timeout_closes_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with override_settings(SSE_SEND_TIMEOUT=0.2):
        handler = PooledASGIHandler()
    caplog.set_level(logging.WARNING, "django_sse.asgi")
    async with streaming(handler) as (client, task):
        client.reading.clear()
        await django_sse.abroadcast("never read")
        await asyncio.wait_for(asyncio.shield(task), 5)  # closed by the server
    assert "the client stopped reading" in caplog.text
    await until(lambda: get_hub().stats()["subscriptions"] == 0)


async def test_heartbeats_are_written_without_waking_the_stream() -> None:
    with override_settings(SSE_HEARTBEAT_INTERVAL=0.1):
        async with streaming(PooledASGIHandler()) as (client, task):
            await django_sse.abroadcast("one")
            await until(lambda: client.raw.count(HEARTBEAT) >= 3)  # then silence: heartbeats
            assert client.by_task[task] == 1  # the stream's task wrote its first chunk only
    assert client.data() == ["one"]
