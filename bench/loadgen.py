"""The load generator: N subscribers on one or more servers, bursts and paced broadcasts.

``Load`` drives already-running servers: it opens N streams at once (round
robin over the servers), warms up until every stream has seen an event, then
publishes ``events`` broadcasts back to back (one ``POST`` that publishes them
all inside the server) and ``paced`` broadcasts ``interval`` apart (one ``POST``
each). Every event carries its publish time, stamped by the server; latency is
the client's receive time minus that stamp (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bench.payload import PublishRequest
from bench.server import Server
from bench.sse_client import Subscriber, Tally, request

HOST = "127.0.0.1"
PATH = "/events/"
WARMUP_WAIT = 0.1  # seconds between warm-up broadcasts until every stream has seen one
WARMUP_TRIES = 600
Hook = Callable[[str], Awaitable[None]]


@dataclass
class Options:
    n: int = 4000
    events: int = 20  # back-to-back broadcasts (and how far behind the storm's cursor is)
    paced: int = 10
    interval: float = 1.0  # seconds between paced broadcasts
    deadline: float = 60.0  # seconds a phase may take after its last publish
    connect_timeout: float = 120.0


@dataclass
class Phase:
    """One publishing phase: what arrived, how fast, how late."""

    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    seconds: float = float("nan")  # first publish -> last delivery
    latencies: list[float] = field(default_factory=list)  # sorted, seconds
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else float("nan")

    def pct(self, p: float) -> float:
        return pct(self.latencies, p)


@dataclass
class Opened:
    n: int = 0
    seconds: float = float("nan")  # the whole burst of connects
    connects: list[float] = field(default_factory=list)  # sorted, seconds each
    server_cpu: float = 0.0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    threads_before: int = 0
    threads_after: int = 0
    warmups: int = 0
    live_after: float = float("nan")  # seconds from the last first chunk to all warm
    missed_first_warmup: int = 0
    failed: int = 0  # streams that did not open (only when tolerated)

    @property
    def kb_per_conn(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / self.n if self.n else float("nan")


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


class Load:
    def __init__(self, servers: Sequence[Server], options: Options, hook: Hook | None = None):
        self.servers = list(servers)
        self.options = options
        self.hook = hook
        self.tally = Tally()
        self.subs: list[Subscriber] = []
        self.next_index = 0  # events published so far (their "i")

    # Server state ---------------------------------------------------------

    def rss_kb(self) -> int:
        return sum(s.status()["VmRSS"] for s in self.servers)

    def threads(self) -> int:
        return sum(s.status()["Threads"] for s in self.servers)

    def cpu(self) -> float:
        return sum(s.cpu_seconds() for s in self.servers)

    async def _mark(self, name: str) -> None:
        if self.hook is not None:
            await self.hook(name)

    # Phases ---------------------------------------------------------------

    async def publish(self, count: int, *, warm: bool = False, port: int | None = None) -> int:
        """Ask the (first) server to publish ``count`` broadcasts; return the HTTP status."""
        ask = PublishRequest(count, self.next_index, warm)
        self.next_index += count
        port = self.servers[0].port if port is None else port
        status, _ = await request(HOST, port, "POST", "/bench/publish/", ask.body())
        return status

    async def warm_servers(self) -> None:
        """One empty publish per server: URLconf, views and hub code loaded."""
        for server in self.servers:
            await self.publish(0, port=server.port)

    async def open(
        self,
        n: int,
        last_event_id: str = "",
        expect: int = 0,  # measured events each stream should receive (the storm's replay)
        *,
        tolerate: bool = False,
        timeout: float | None = None,
    ) -> Opened:
        """Open ``n`` streams at once (``expect`` measured events).

        Raise if any fails to open within ``connect_timeout``, unless ``tolerate``:
        then count them in ``failed`` and go on with the others.
        """
        out = Opened(n=n)
        out.rss_before_kb, out.threads_before = self.rss_kb(), self.threads()
        self.tally = Tally()
        self.subs = [Subscriber(self.tally, keep_id=i == 0) for i in range(n)]
        self.tally.reset(self.subs, expect)
        ports = [s.port for s in self.servers]
        await self._mark("open")
        cpu0, started = self.cpu(), time.perf_counter()
        tasks = [
            asyncio.ensure_future(s.open(HOST, ports[i % len(ports)], PATH, last_event_id))
            for i, s in enumerate(self.subs)
        ]
        _, pending = await asyncio.wait(tasks, timeout=timeout or self.options.connect_timeout)
        out.seconds = time.perf_counter() - started
        out.server_cpu = self.cpu() - cpu0
        await self._mark("")
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        errors = [t.exception() if not t.cancelled() else TimeoutError() for t in tasks]
        failed = [e for e in errors if e is not None]
        out.failed = len(failed)
        if failed and not tolerate:
            self.close()
            raise RuntimeError(f"{len(failed)}/{n} streams failed to open, e.g. {failed[0]!r}")
        out.connects = sorted(s.connect_time for s in self.subs if s.live)
        return out

    async def warm_up(self, out: Opened) -> None:
        """Broadcast until every stream has seen one (some servers answer before live)."""
        started = time.perf_counter()
        for attempt in range(1, WARMUP_TRIES + 1):
            status = await self.publish(1, warm=True)
            if status != 200:
                raise RuntimeError(f"warm-up publish: HTTP {status}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.tally.all_warm.wait(), WARMUP_WAIT)
            if attempt == 1:
                out.missed_first_warmup = self.tally.subscribers - self.tally.warm
            if self.tally.all_warm.is_set():
                out.warmups = attempt
                out.live_after = time.perf_counter() - started
                out.rss_after_kb, out.threads_after = self.rss_kb(), self.threads()
                return
        raise RuntimeError(f"only {self.tally.warm}/{self.tally.subscribers} streams warm")

    async def burst(self, count: int) -> Phase:
        """``count`` broadcasts back to back, published inside the server."""
        return await self._phase(count, self._burst_publish, "burst")

    async def paced(self, count: int, interval: float) -> Phase:
        """``count`` broadcasts, one ``POST`` every ``interval`` seconds."""

        async def publish(total: int) -> None:
            first = time.time()
            posts = []
            for i in range(total):
                delay = first + i * interval - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing, not waiting for a result
                posts.append(asyncio.create_task(self.publish(1)))
            statuses = await asyncio.gather(*posts)
            if bad := [s for s in statuses if s != 200]:
                raise RuntimeError(f"paced publish: HTTP {bad[0]}")

        return await self._phase(count, publish, "paced")

    async def _burst_publish(self, count: int) -> None:
        status = await self.publish(count)
        if status != 200:
            raise RuntimeError(f"burst publish: HTTP {status}")

    async def _phase(
        self, count: int, publish: Callable[[int], Awaitable[None]], name: str
    ) -> Phase:
        subs = self.subs
        before = {id(s): s.count for s in subs}
        live = [s for s in subs if s.live]
        n = len(live)
        self.tally.reset(live, count)
        await self._mark(name)
        cpu0, client0 = self.cpu(), time.process_time()
        await publish(count)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.tally.complete.wait(), self.options.deadline)
        out = Phase(expected=n * count, server_cpu=self.cpu() - cpu0)
        out.client_cpu = time.process_time() - client0
        await self._mark("")
        await asyncio.sleep(0.2)  # late duplicates, if any, arrive now
        got = [s.count - before[id(s)] for s in subs]
        out.delivered = sum(min(g, count) for g in got)
        out.lost = sum(max(0, count - g) for g in got)
        out.duplicates = sum(max(0, g - count) for g in got)
        received = self.tally.received
        if received:
            out.seconds = self.tally.last_delivery - min(sent for sent, _ in received)
            out.latencies = sorted(got_at - sent for sent, got_at in received)
        return out

    def close(self) -> None:
        for sub in self.subs:
            sub.close()
        self.subs = []
