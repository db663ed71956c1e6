"""Connects racing publishers in other processes: no gap, no duplicate, in order."""

from __future__ import annotations

import asyncio
import json
import random
import uuid

from tests.conftest import ServerFactory
from tests.services import Backend, finish
from tests.sse_client import Client
from tests.test_log import read_log

PUBLISHERS = 2
EACH = 300
CLIENTS = 3


async def follow_with_reconnects(
    url: str, topic: str, total: int, seed: int
) -> tuple[list[tuple[str, int]], int]:
    """Read ``total`` events, dropping the connection after a random few each time."""
    rng = random.Random(seed)
    received: list[tuple[str, int]] = []
    last_id: str | None = None
    connects = 0
    async with Client(url) as client:
        while len(received) < total:
            connects += 1
            async with client.stream({"topic": topic}, last_event_id=last_id) as reader:
                take = min(rng.randint(1, 40), total - len(received))
                for event in await reader.events(take, timeout=60):
                    assert event.event == "message", event
                    data = json.loads(event.data)
                    received.append((data["tag"], data["i"]))
                    last_id = event.id
    return received, connects


async def test_reconnects_racing_publishers_lose_and_repeat_nothing(
    postgres_backend: Backend, redis_layer: str, start_server: ServerFactory
) -> None:
    backend = postgres_backend.with_layer(redis_layer)
    server = start_server(backend)
    topic = f"open-race-{uuid.uuid4().hex[:8]}"
    total = PUBLISHERS * EACH
    clients = [
        asyncio.create_task(follow_with_reconnects(server.url, topic, total, seed))
        for seed in range(CLIENTS)
    ]
    async with Client(server.url) as probe:
        await probe.wait_hub(subscriptions=CLIENTS, timeout=20)
    publishers = [
        backend.publisher("topic", topic, EACH, f"p{n}", interval=0.001) for n in range(PUBLISHERS)
    ]
    results = await asyncio.gather(*clients)
    for process in publishers:
        finish(process)
    log = [
        (d["tag"], d["i"])
        for d in (json.loads(data) for _, data in read_log(backend, f"topic:{topic}"))
    ]
    assert len(log) == total
    for received, connects in results:
        assert received == log
        assert connects >= 10
