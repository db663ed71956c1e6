"""channels-redis through Redis Sentinel, in a real daphne: the primary is killed while a
worker publishes, a replica is promoted, and every stream goes on with every event once,
in order. The recovery time is printed (``-s``), at a light load, for docs/deploy.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.redis_servers import SentinelGroup, redis_server_installed
from tests.services import Backend, finish, need
from tests.sse_client import Client, EventReader

pytestmark = pytest.mark.e2e
STREAMS = 20
EVENTS = 250
INTERVAL = 0.02  # seconds between a worker's broadcasts: 50 a second


async def read(reader: EventReader, got: list[tuple[int, float, float]]) -> None:
    """Every event as (i, published, received)."""
    for _ in range(EVENTS):
        (event,) = await reader.events(1, timeout=60)
        data = json.loads(event.data)
        got.append((data["i"], data["t"], time.time()))


async def test_a_sentinel_failover_loses_and_repeats_nothing(
    postgres_backend: Backend, start_server: ServerFactory, tmp_path: Path
) -> None:
    need("redis-server", redis_server_installed())
    redis = SentinelGroup(tmp_path).start()
    try:
        backend = postgres_backend.with_layer(redis.layer("sentinel"))
        server = start_server(backend, SSE_HEARTBEAT_INTERVAL=0.3)
        async with Client(server.url) as client, contextlib.AsyncExitStack() as stack:
            await client.login("sentinel-reader")
            readers = [await stack.enter_async_context(client.stream()) for _ in range(STREAMS)]
            await client.wait_hub(subscriptions=STREAMS)
            got: list[list[tuple[int, float, float]]] = [[] for _ in readers]
            tasks = [asyncio.create_task(read(r, g)) for r, g in zip(readers, got, strict=True)]
            worker = backend.publisher("broadcast", "", EVENTS, "sentinel", INTERVAL)
            await asyncio.sleep(EVENTS * INTERVAL / 3)
            killed = time.time()
            promotion = await asyncio.to_thread(redis.fail_over)
            assert len(await asyncio.to_thread(finish, worker, 120)) == EVENTS
            await asyncio.gather(*tasks)
    finally:
        redis.stop()
    for events in got:
        assert [i for i, _, _ in events] == list(range(EVENTS))
    recovered = max(min(r for _, p, r in events if p > killed) - killed for events in got)
    latencies = sorted(r - p for events in got for _, p, r in events)
    print(
        f"\nsentinel: the replica promoted {promotion:.2f} s after the primary died; every "
        f"stream had an event published after it {recovered:.2f} s after; "
        f"{STREAMS * EVENTS} deliveries, none lost or repeated, latency p50 "
        f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1]:.2f} s"
    )
