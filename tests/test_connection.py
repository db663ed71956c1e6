"""One connection's body in-process: slow consumers catch up from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError
from django.test import override_settings

from django_sse.auth import denied_streams
from django_sse.delivery.connection import Connection
from django_sse.delivery.db import run_db
from django_sse.delivery.hub import Hub
from django_sse.models import Event
from tests.hubkit import ring, store
from tests.test_wire import Parsed

pytestmark = pytest.mark.django_db(transaction=True)


async def read_events(body: AsyncIterator[bytes], count: int) -> list[tuple[str, str, str]]:
    raw = b""
    async with asyncio.timeout(10):
        while len(Parsed(raw).events) < count:
            raw += await anext(body)
    return Parsed(raw).events


async def test_overflowed_connection_catches_up_from_the_log_exactly_once(hub: Hub) -> None:
    with override_settings(SSE_MAX_PENDING=3, SSE_HEARTBEAT_INTERVAL=60):
        body = Connection(hub, ["broadcast"], None).events()
        assert (await anext(body)).startswith(b"retry: 3000\n\n: connected\n\nid: ")
        seqs = await store("broadcast", *[f"e{i}" for i in range(10)])
        await ring(hub, "broadcast", None, "ephemeral, lost in the overflow")
        for seq in seqs:  # ten rings before the connection reads: its queue overflows
            await ring(hub, "broadcast", seq, f"e{seq - 1}")
        events = await read_events(body, 11)
        await body.aclose()
    # The client is told what the log cannot give back, then gets what it can.
    assert events[0][:2] == ("sse:dropped", '{"dropped": 1}')
    assert [data for _, data, _ in events[1:]] == [f"e{i}" for i in range(10)]
    assert len({event_id for _, _, event_id in events[1:]}) == 10
    assert hub.stats()["subscriptions"] == 0
    assert hub.counters["overflows"] == 1


async def test_a_reset_in_the_middle_of_a_batch_moves_the_rest_of_it(hub: Hub) -> None:
    body = Connection(hub, ["topic:p"], None).events()
    await anext(body)  # live at position 0
    seqs = await store("topic:p", "1", "2", "3", "4")
    await run_db(lambda: Event.objects.filter(stream="topic:p", seq__lte=2).delete())
    await ring(hub, "topic:p", seqs[2], "3")  # the hub repairs 3 and 4; 1 and 2 are gone
    events = await read_events(body, 1)
    (seq,) = await store("topic:p", "5")
    await ring(hub, "topic:p", seq, "5")
    events += await read_events(body, 1)
    await body.aclose()
    assert [(e, d) for e, d, _ in events] == [
        ("sse:reset", '{"reason": "expired"}'),
        ("message", "5"),
    ]


async def test_a_database_outage_at_connect_is_a_retry_and_a_clean_close(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(streams: list[str]) -> dict[str, int]:
        raise OperationalError("the database is restarting")

    monkeypatch.setattr("django_sse.delivery.hub.read_heads", down)  # joining reads the head
    chunks = [chunk async for chunk in Connection(hub, ["broadcast"], None).events()]
    assert chunks == [b"retry: 3000\n\n: unavailable, retry\n\n"]
    assert hub.stats()["subscriptions"] == 0


def deny_everything(user: object, stream: str) -> bool:
    return False


async def test_a_revoked_user_is_closed_before_catching_up(hub: Hub) -> None:
    with override_settings(SSE_MAX_PENDING=2, SSE_HEARTBEAT_INTERVAL=60):
        user = AnonymousUser()
        body = Connection(hub, ["broadcast"], None, user=user, denied=denied_streams).events()
        await anext(body)
        with override_settings(SSE_AUTHORIZE=f"{__name__}.deny_everything"):
            for seq in await store("broadcast", "a", "b", "c", "d"):
                await ring(hub, "broadcast", seq, "x")  # overflows: it must read the log
            rest = [chunk async for chunk in body]
    assert rest == []  # closed without a byte of what it may no longer read
    assert hub.stats()["subscriptions"] == 0


async def test_a_draining_process_sends_new_streams_elsewhere_at_once(hub: Hub) -> None:
    hub.drain()
    (chunk,) = [c async for c in Connection(hub, ["broadcast"], None).events()]
    retry = int(chunk.split(b"\n")[0].removeprefix(b"retry: "))
    assert 100 <= retry <= 1000 and chunk.endswith(b"\n\n: shutting down\n\n")
    assert hub.stats()["subscriptions"] == 0
