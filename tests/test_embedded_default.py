"""The embedded default (SQLite + the in-memory layer) across processes on one machine:
an event published from another process reaches open streams at once, not at the
hub's next resync."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, finish
from tests.sse_client import Client

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_publish_from_another_process_reaches_open_streams(
    sqlite_backend: Backend, start_server: ServerFactory, kind: str
) -> None:
    # A resync an hour away: only the watch of the log can deliver in time.
    server = start_server(sqlite_backend, kind, SSE_RESYNC_INTERVAL=3600.0)
    tag = uuid.uuid4().hex[:6]
    async with Client(server.url) as client, client.stream() as reader:
        await client.wait_hub(subscriptions=1)
        publisher = sqlite_backend.publisher("broadcast", "-", 3, tag)  # like sse_send
        events = await reader.events(3, timeout=10)
        arrived = time.time()
        seqs = await asyncio.to_thread(finish, publisher)
        stats = await client.hub()
    assert [json.loads(e.data)["i"] for e in events] == [0, 1, 2]
    assert len(seqs) == 3
    assert stats["log_changes"] >= 1
    sent = json.loads(events[-1].data)["t"]
    print(f"\n{kind}: a publish from another process arrived {arrived - sent:.2f} s later")


def test_only_the_in_memory_layer_on_an_sqlite_file_is_watched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from channels.layers import InMemoryChannelLayer
    from django.db import connection

    from django_sse.delivery.log_watch import sqlite_file

    assert sqlite_file(InMemoryChannelLayer()) == connection.settings_dict["NAME"]
    assert sqlite_file(object()) is None  # a cross-process layer rings every process
    for memory in (":memory:", "file:memorydb_default?mode=memory&cache=shared"):
        monkeypatch.setitem(connection.settings_dict, "NAME", memory)
        assert sqlite_file(InMemoryChannelLayer()) is None  # no other process can open it
