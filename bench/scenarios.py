"""The bench's scenarios: one target under load, the reconnect storm, 10k idle, Redis.

Each returns plain numbers (dataclasses); ``bench.report`` turns them into tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.cpucap import CpuCap
from bench.loadgen import Hook, Load, Opened, Options, Phase
from bench.targets import Target, start, stop

REDIS_URL = "redis://127.0.0.1:6379/0"
SETTLE = 1.0  # seconds for a server to notice closed streams before the next step
STORM_CONNECT = 60.0  # seconds the storm's clients may take to connect
SCALE_CAP = 0.5  # cores each process may use in the capped scale-out pair


@dataclass
class Storm:
    n: int
    behind: int
    opened: Opened
    seconds: float = float("nan")  # connects start -> every stream caught up
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    server_cpu: float = 0.0


@dataclass
class TargetRun:
    target: Target
    opened: Opened
    burst: Phase
    paced: Phase
    storm: Storm | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Idle:
    n: int
    opened: Opened
    window: float
    cpu_percent: float
    rss_before_kb: int
    rss_after_kb: int
    threads: int
    reads: int  # data_received calls in the window: heartbeats
    closed: int  # streams the server ended in the window
    after: Phase  # one broadcast to all, after the idle window
    problems: list[str] = field(default_factory=list)
    window_at: float = 0.0  # seconds after the warm-up broadcast the window started
    drain_seconds: float = float("nan")  # SIGTERM -> exit, with every stream open
    drained: int = 0  # streams the server closed during that


@dataclass
class Scale:
    """Burst deliveries/s of one and two processes; each pair uncapped, then capped."""

    n: int
    one: Phase
    two: Phase
    cap: float = 0.0  # cores each process was held to for the capped pair (0: not run)
    one_capped: Phase | None = None
    two_capped: Phase | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.two.rate / self.one.rate

    @property
    def capped_ratio(self) -> float | None:
        if self.one_capped is None or self.two_capped is None:
            return None
        return self.two_capped.rate / self.one_capped.rate


async def run_target(
    target: Target,
    workdir: Path,
    options: Options,
    *,
    storm: bool,
    hook: Hook | None = None,
    env: dict[str, str] | None = None,
) -> TargetRun:
    """Open N streams, burst, paced, and (if it recovers) the reconnect storm."""
    servers = start(target, workdir, env=env)
    load = Load(servers, options, hook)
    try:
        await load.warm_servers()
        opened = await load.open(options.n)
        await load.warm_up(opened)
        burst = await load.burst(options.events)
        paced = await load.paced(options.paced, options.interval)
        run = TargetRun(target, opened, burst, paced)
        if storm and target.recovers:
            try:
                run.storm = await reconnect_storm(load, options.events)
            except Exception as exc:  # report it; the target's other numbers stand
                run.problems.append(f"reconnect storm failed: {exc!r}")
    finally:
        load.close()
        await asyncio.sleep(0.1)  # let the aborts go out before the server stops
        problems = stop(servers)
    run.problems += problems
    return run


async def reconnect_storm(load: Load, behind: int) -> Storm:
    """Close every stream, publish ``behind`` events, reconnect all at once with the cursor."""
    cursor = load.subs[0].last_id
    if not cursor:
        raise RuntimeError("the probe stream saw no id: cannot run the reconnect storm")
    n = len(load.subs)
    load.close()
    await asyncio.sleep(SETTLE)
    if (status := await load.publish(behind)) != 200:
        raise RuntimeError(f"storm publish: HTTP {status}")
    cpu0, started = load.cpu(), time.time()
    opened = await load.open(n, cursor, behind, tolerate=True, timeout=STORM_CONNECT)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.tally.complete.wait(), load.options.deadline)
    out = Storm(n, behind, opened, server_cpu=load.cpu() - cpu0)
    if load.tally.complete.is_set():
        out.seconds = load.tally.last_delivery - started
    await asyncio.sleep(0.2)  # late duplicates, if any, arrive now
    counts = [s.count for s in load.subs]
    out.delivered = sum(min(c, behind) for c in counts)
    out.lost = sum(max(0, behind - c) for c in counts)
    out.duplicates = sum(max(0, c - behind) for c in counts)
    return out


async def idle_streams(
    target: Target, workdir: Path, n: int, *, window: float = 10.0, heartbeat: float = 15.0
) -> Idle:
    """``n`` open streams with heartbeats every ``heartbeat`` s: CPU, RSS, threads, drain.

    The warm-up broadcast writes to every stream at once, so their next heartbeats come
    together ``heartbeat`` s later: the window is centred on that round. Then one
    broadcast to all, then SIGTERM with every stream open (django-sse drains them).
    """
    servers = start(target, workdir, env={"DJANGO_SSE_BENCH_HEARTBEAT": str(heartbeat)})
    load = Load(servers, Options(n=n, connect_timeout=300.0))
    try:
        await load.warm_servers()
        opened = await load.open(n)
        await load.warm_up(opened)
        warm_at = time.perf_counter()
        await asyncio.sleep(max(SETTLE, heartbeat - window / 2))
        rss0, reads0, closed0 = load.rss_kb(), load.tally.reads, load.tally.closed
        cpu0, started = load.cpu(), time.perf_counter()
        await asyncio.sleep(window)
        elapsed = time.perf_counter() - started
        cpu = (load.cpu() - cpu0) / elapsed * 100
        out = Idle(
            n,
            opened,
            elapsed,
            cpu,
            rss0,
            load.rss_kb(),
            load.threads(),
            load.tally.reads - reads0,
            load.tally.closed - closed0,
            await load.burst(1),
        )
        out.window_at = started - warm_at
        closed0 = load.tally.closed
        out.drain_seconds = await asyncio.to_thread(servers[0].stop, 60.0)
        await asyncio.sleep(0.5)  # the last closes reach the client
        out.drained = load.tally.closed - closed0
    finally:
        load.close()
        await asyncio.sleep(0.1)
        problems = stop(servers)  # after the drain: only its output and exit status
    out.problems = problems
    return out


async def redis_scale(
    target: Target, workdir: Path, options: Options, cap: float = SCALE_CAP
) -> Scale:
    """Burst deliveries/s of one process on Redis, then of two sharing the N streams.

    Twice: with the machine shared as it is, then (where cgroups allow) with every
    server process held to ``cap`` cores (``bench.cpucap``).
    """
    phases: dict[tuple[float, int], Phase] = {}
    problems: list[str] = []
    caps = [0.0, cap] if cap and CpuCap.available() else [0.0]
    for cores in caps:
        for count in (1, 2):
            phase, notes = await _redis_burst(target, workdir, options, count, cores)
            phases[cores, count] = phase
            problems.extend(notes)
    scale = Scale(options.n, phases[0.0, 1], phases[0.0, 2], problems=problems)
    if len(caps) == 2:
        scale.cap, scale.one_capped, scale.two_capped = cap, phases[cap, 1], phases[cap, 2]
    return scale


async def _redis_burst(
    target: Target, workdir: Path, options: Options, count: int, cores: float
) -> tuple[Phase, list[str]]:
    prefix = f"django-sse-bench-{uuid.uuid4().hex[:12]}"
    sub = workdir / f"redis-{count}-{cores}"
    sub.mkdir(exist_ok=True)
    env = {"DJANGO_SSE_BENCH_REDIS": REDIS_URL, "DJANGO_SSE_BENCH_PREFIX": prefix}
    servers = start(target, sub, count=count, env=env)
    capping = CpuCap(cores)
    try:
        for server in servers if cores else []:
            capping.add(server.pid)
        load = Load(servers, options)
        try:
            await load.warm_servers()
            opened = await load.open(options.n)
            await load.warm_up(opened)
            phase = await load.burst(options.events)
        finally:
            load.close()
            await asyncio.sleep(0.1)
            problems = stop(servers)
    finally:
        capping.close()
    return phase, problems
