"""One connection's body in-process: slow consumers catch up from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from django.test import override_settings

from django_sse.connection import Connection
from django_sse.hub import Hub
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
        assert (await anext(body)).startswith(b"retry: 3000\n\n: connected\n\n")
        seqs = await store("broadcast", *[f"e{i}" for i in range(10)])
        for seq in seqs:  # ten rings before the connection reads: its queue overflows
            await ring(hub, "broadcast", seq, f"e{seq - 1}")
        await ring(hub, "broadcast", None, "ephemeral, lost in the overflow")
        events = await read_events(body, 10)
        await body.aclose()
    assert [data for _, data, _ in events] == [f"e{i}" for i in range(10)]
    assert len({event_id for _, _, event_id in events}) == 10
    assert hub.stats()["subscriptions"] == 0
    assert hub.counters["overflows"] == 1
