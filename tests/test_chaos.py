"""Two servers, Redis (behind Sentinel) and PostgreSQL under chaos: every subscriber ends
with exactly the published sequence of every stream it follows, and the servers' metrics
say what happened. Run it alone with ``pytest -m chaos``."""

from __future__ import annotations

import asyncio
import random
import signal
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.chaos_kit import Subscriber
from tests.conftest import ServerFactory
from tests.redis_servers import SentinelGroup, redis_server_installed
from tests.services import (
    Backend,
    Server,
    finish,
    need,
    pg_connect,
)
from tests.sse_client import Client

pytestmark = pytest.mark.chaos

SEED = 5
USERS = 100  # two subscribers (tabs) each, on either server
RAW_USERS = 40  # ... and these a third, with no cursor of its own (a plain EventSource)
TOPICS = [f"open-chaos{i}" for i in range(5)]
PUBLISHERS = 3
EACH = 700
TOKEN = "chaos-scrape-" + "x" * 12


def heads(database: str, streams: list[str]) -> dict[str, int]:
    with pg_connect(database) as conn:
        rows = conn.execute(
            "SELECT name, seq FROM django_sse_stream WHERE name = ANY(%s)", (streams,)
        ).fetchall()
    found = {str(name): int(seq) for name, seq in rows}
    return {s: found.get(s, 0) for s in streams}


def log_of(database: str, streams: list[str]) -> dict[tuple[str, int], str]:
    with pg_connect(database) as conn:
        rows = conn.execute(
            "SELECT stream, seq, data FROM django_sse_event WHERE stream = ANY(%s)", (streams,)
        ).fetchall()
    return {(str(s), int(q)): str(d) for s, q, d in rows}


async def make_subscribers(url: str, database: str) -> list[Subscriber]:
    subscribers = []
    for i in range(USERS):
        async with Client(url) as client:
            pk = await client.login(f"chaos{i}-{random.getrandbits(32):x}")
            cookie = "; ".join(f"{k}={v}" for k, v in client.http.cookies.items())
        for tab in range(3 if i < RAW_USERS else 2):
            topic = TOPICS[(i + tab) % len(TOPICS)]
            streams = sorted(["broadcast", f"topic:{topic}", f"user:{pk}"])
            if tab == 2:  # it learns where it stands from its first stream
                subscribers.append(Subscriber(cookie, topic, streams, {}, raw=True))
            else:
                subscribers.append(Subscriber(cookie, topic, streams, heads(database, streams)))
    return subscribers


async def chaos(
    redis: SentinelGroup,
    victim: Server,
    subs: list[Subscriber],
    done: asyncio.Event,
    rng: random.Random,
    figures: dict[str, float],
) -> None:
    """Drop a random subscriber every 100 ms; at 2.5 s kill the Redis primary (Sentinel
    promotes its replica); at 5 s SIGKILL a server; at 6.5 s empty the new primary, as a
    Redis restarted without persistence comes back (every group forgotten)."""
    started = time.monotonic()
    failover: asyncio.Task[float] | None = None
    killed = emptied = False
    while not done.is_set():
        elapsed = time.monotonic() - started
        if failover is None and elapsed > 2.5:
            figures["redis primary killed"] = time.time()
            failover = asyncio.create_task(asyncio.to_thread(redis.fail_over))
        if not killed and elapsed > 5.0:
            killed = True
            figures["server killed"] = time.time()
            victim.stop(signal.SIGKILL)
            await asyncio.to_thread(victim.start)
        if not emptied and elapsed > 6.5 and failover is not None and failover.done():
            emptied = True
            figures["redis emptied"] = time.time()
            redis.primary.client().flushall()
        sub = rng.choice(subs)
        if sub.writer is not None:
            sub.writer.close()  # it comes back, to either server, with its cursor
        # A raw one too, often before its first event: it has only the stream's cursor.
        raw = rng.choice([s for s in subs if s.raw])
        if raw.writer is not None:
            raw.writer.close()
        await asyncio.sleep(0.1)
    assert failover is not None and emptied, "the publishers finished before the chaos did"
    figures["promotion"] = await failover


def scrape(port: int) -> dict[str, float]:
    """A server's metrics, each family's samples added up over their labels."""
    from prometheus_client.parser import text_string_to_metric_families

    page = httpx.get(
        f"http://127.0.0.1:{port}/events/metrics/",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert page.status_code == 200
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(page.text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


async def test_chaos_loses_and_repeats_nothing(
    postgres_backend: Backend, start_server: ServerFactory, tmp_path: Path
) -> None:
    need("redis-server", redis_server_installed())
    redis = SentinelGroup(tmp_path).start()
    backend = postgres_backend.with_layer(redis.layer("chaos"))
    database = backend.db.partition(":")[2]
    try:
        # Each server counts into a directory of its own, which outlives a SIGKILL.
        for name in ("one", "two"):
            (tmp_path / name).mkdir()
        one, two = (
            start_server(
                backend.with_environ(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / name)),
                SSE_METRICS_TOKEN=TOKEN,
            )
            for name in ("one", "two")
        )
        rng = random.Random(SEED)
        subs = await make_subscribers(one.url, database)
        users = sorted({s for sub in subs for s in sub.streams if s.startswith("user:")})
        targets = ",".join(["broadcast"] * 10 + [f"topic:{t}" for t in TOPICS] * 6 + users)
        final: list[dict[str, int]] = []
        followers = [
            asyncio.create_task(sub.follow([one.port, two.port], final, rng)) for sub in subs
        ]
        publishers = [
            backend.publisher("mix", targets, EACH, f"chaos{n}", 0.01) for n in range(PUBLISHERS)
        ]
        done, figures = asyncio.Event(), dict[str, float]()
        monkey = asyncio.create_task(chaos(redis, one, subs, done, rng, figures))
        for process in publishers:
            await asyncio.to_thread(finish, process, 300)
        done.set()
        await monkey
        every = sorted({s for sub in subs for s in sub.streams})
        final.append(heads(database, every))
        async with asyncio.timeout(300):  # generous: a shared 2-core CI machine
            connects = await asyncio.gather(*followers)
        counted = {server: scrape(server.port) for server in (one, two)}
    finally:
        redis.stop()
    log = log_of(database, every)
    for sub in subs:
        assert sub.violations == []
        for stream in sub.streams:
            got = sub.received.get(stream, [])
            expected = range(sub.start[stream] + 1, final[0][stream] + 1)
            assert [seq for seq, _ in got] == list(expected)
            assert all(log[(stream, seq)] == data for seq, data in got)
    # The metrics of the server that was never killed account for what its clients saw
    # (the other lost up to a second of counts with its process) and for the outages.
    seen = counted[two]
    assert seen["sse_connects_total"] >= sum(sub.opened[two.port] for sub in subs)
    written = seen["sse_deliveries_total"] + seen["sse_replayed_events_total"]
    assert written >= sum(sub.events_from[two.port] for sub in subs)
    # The emptied Redis forgot the hub's groups: its pings were lost and it rejoined. (The
    # primary's death may show as layer errors, or not at all: redis-py retries a command
    # on a dropped connection, and the rings lost with the primary are repaired.)
    assert seen["sse_receiver_restarts_total"] >= 1, seen
    assert seen["sse_delivery_latency_seconds_count"] > 0
    assert counted[one]["sse_connects_total"] > 0
    promotion = figures.pop("promotion")
    latencies = sorted(x for sub in subs for x in sub.latencies)
    recovery = {
        action: max(r for sub in subs if (r := sub.recovered_after(moment)) is not None)
        for action, moment in figures.items()
    }
    print(
        f"\nchaos: {len(subs)} subscribers, {PUBLISHERS * EACH} events, "
        f"{sum(len(s.latencies) for s in subs)} deliveries, {sum(connects)} connects, "
        f"max reconnect-to-live {max(t for s in subs for t in s.reconnect_times):.2f} s, "
        f"delivery latency p50 {statistics.median(latencies) * 1000:.0f} ms "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms "
        f"max {latencies[-1]:.2f} s; Sentinel promoted the replica {promotion:.2f} s after "
        "the primary died; every subscriber had an event published after the "
        + ", ".join(f"{action} within {seconds:.2f} s" for action, seconds in recovery.items())
        + "; server two counted "
        + ", ".join(
            f"{k} {seen[k]:.0f}"
            for k in (
                "sse_connects_total",
                "sse_deliveries_total",
                "sse_replayed_events_total",
                "sse_layer_errors_total",
                "sse_receiver_restarts_total",
                "sse_repaired_events_total",
            )
        )
    )
