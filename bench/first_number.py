"""First number: N open streams on one daphne process, then a few broadcasts.

Run ``.venv/bin/python bench/first_number.py [--n 1000] [--events 10]``. It
migrates a fresh SQLite file, starts daphne serving ``bench.asgi``, opens N
``GET /events/`` streams over raw sockets, waits until every stream is live
(it has received a warm-up broadcast), then publishes ``--events`` broadcasts
from inside the server (``POST /bench/publish/`` calls ``abroadcast``), paced
``--interval`` apart, and reports throughput, latency, losses, memory and
threads. Exit status: 0 done, 1 could not run, 2 ran but lost deliveries.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import Server, bench_env, free_port, migrate  # noqa: E402
from bench.sse_client import Subscriber, Tally, get_json, request  # noqa: E402

HOST = "127.0.0.1"
WARMUP_TRIES = 300
RELEASE_DEADLINE = 30.0  # seconds for the server to forget the closed streams
WARMUP_WAIT = 0.1  # seconds between warm-up broadcasts until every stream has seen one


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--n", type=int, default=1000, help="open streams (default 1000)")
    p.add_argument("--events", type=int, default=10, help="broadcasts (default 10)")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between publishes")
    p.add_argument("--deadline", type=float, default=30.0, help="seconds after the last publish")
    p.add_argument("--connect-timeout", type=float, default=120.0, help="seconds to open all")
    p.add_argument(
        "--profile",
        metavar="PREFIX",
        help="cProfile the server's loop into PREFIX-open.prof and PREFIX-broadcast.prof",
    )
    args = p.parse_args(argv)
    if args.n < 1 or args.events < 1:
        p.error("--n and --events must be at least 1")
    return args


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise RuntimeError(f"need {needed} file descriptors, hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


async def publish(port: int, i: int, event: str) -> tuple[int, float]:
    """One in-server broadcast; its HTTP status and round-trip seconds."""
    started = time.time()
    payload = {"t": started, "i": i, "event": event}
    status, _ = await request(HOST, port, "POST", "/bench/publish/", payload)
    return status, time.time() - started


async def profile(port: int, prefix: str | None, phase: str | None) -> None:
    """Start profiling ``phase`` in the server (``None``: stop and dump), if asked to."""
    if prefix:
        payload = {"path": f"{prefix}-{phase}.prof"} if phase else {}
        await request(HOST, port, "POST", "/bench/profile/", payload)


async def warm_up(port: int, tally: Tally) -> tuple[int, int]:
    """Broadcast until every stream has seen one: (broadcasts sent, streams missing the 1st)."""
    missed_first = -1
    for attempt in range(1, WARMUP_TRIES + 1):
        status, _ = await publish(port, attempt, "warmup")
        if status != 200:
            raise RuntimeError(f"warm-up publish: HTTP {status}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.all_warm.wait(), WARMUP_WAIT)
        if missed_first < 0:
            missed_first = tally.subscribers - tally.warm
        if tally.all_warm.is_set():
            return attempt, missed_first
    raise RuntimeError(f"only {tally.warm}/{tally.subscribers} streams live after warm-up")


async def measure(args: argparse.Namespace, server: Server) -> int:
    port, n, events = server.port, args.n, args.events
    await get_json(HOST, port, "/bench/stats/")  # warm: loads the URLconf and views
    before = server.status()

    tally = Tally()
    subs = [Subscriber(tally) for _ in range(n)]
    try:
        await profile(port, args.profile, "open")
        cpu_open = server.cpu_seconds()
        started = time.perf_counter()
        opened = await asyncio.wait_for(
            asyncio.gather(*(s.open(HOST, port, "/events/") for s in subs), return_exceptions=True),
            args.connect_timeout,
        )
        open_all = time.perf_counter() - started
        failed = [r for r in opened if isinstance(r, BaseException)]
        if failed:
            print(f"{len(failed)}/{n} streams failed to open, e.g. {failed[0]!r}", file=sys.stderr)
            return 1
        cpu_open = server.cpu_seconds() - cpu_open
        await profile(port, args.profile, None)
        connects = sorted(s.connect_time for s in subs)
        live_started = time.perf_counter()
        warmups, missed_first = await warm_up(port, tally)
        live_after = time.perf_counter() - live_started
        after_open = server.status()
        stats1 = await get_json(HOST, port, "/bench/stats/")

        tally.reset(n * events)
        await profile(port, args.profile, "broadcast")
        cpu0, client_cpu0 = server.cpu_seconds(), time.process_time()
        first_publish = time.time()
        posts = []
        for i in range(events):
            delay = first_publish + i * args.interval - time.time()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing, not waiting for a result
            posts.append(asyncio.create_task(publish(port, i, "bench")))
        results = await asyncio.gather(*posts)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.complete.wait(), args.deadline)
        cpu, client_cpu = server.cpu_seconds() - cpu0, time.process_time() - client_cpu0
        await profile(port, args.profile, None)
        after_bcast = server.status()
        stats2 = await get_json(HOST, port, "/bench/stats/")
    finally:
        await asyncio.gather(*(s.close() for s in subs), return_exceptions=True)
    released, stats3 = await released_after_close(port)

    bad_posts = [status for status, _ in results if status != 200]
    lost = n * events - tally.deliveries
    span = tally.last_delivery - first_publish if tally.deliveries else float("nan")
    lat = sorted(got - sent for sent, got in tally.received)
    by_broadcast: dict[float, list[float]] = {}
    for sent, got in tally.received:
        by_broadcast.setdefault(sent, []).append(got - sent)
    worst = [max(v) for _, v in sorted(by_broadcast.items())]
    post_rtt = sorted(rtt for _, rtt in results)
    kb_per_conn = (after_open["VmRSS"] - before["VmRSS"]) / n
    rows = [
        ("streams open", f"{tally.subscribers:,} (closed by server: {tally.closed})"),
        ("open all (burst)", f"{open_all:.2f} s  ({n / open_all:,.0f} connects/s)"),
        ("connect p50 / p99 / max", " / ".join(ms(pct(connects, p)) for p in (50, 99, 100))),
        ("server CPU opening", f"{cpu_open:.2f} s  ({cpu_open / n * 1e3:.2f} ms per stream)"),
        ("all live after (warm-up)", f"{live_after:.2f} s after the last first chunk"),
        ("warm-up broadcasts", f"{warmups} (streams that missed the 1st: {missed_first})"),
        ("broadcasts", f"{events} x {n:,} = {n * events:,} deliveries expected"),
        ("delivered / lost", f"{tally.deliveries:,} / {lost:,}"),
        ("deliveries/s", f"{tally.deliveries / span:,.0f}  (first publish -> last delivery)"),
        ("first publish -> last delivery", ms(span)),
        ("latency p50", ms(pct(lat, 50))),
        ("latency p90", ms(pct(lat, 90))),
        ("latency p99", ms(pct(lat, 99))),
        ("latency max", ms(pct(lat, 100))),
        ("latency max per broadcast", " ".join(f"{w * 1000:.0f}" for w in worst) + " ms"),
        ("publish POST p50 / max", f"{ms(pct(post_rtt, 50))} / {ms(pct(post_rtt, 100))}"),
        ("server CPU broadcasting", f"{cpu:.2f} s  ({_per(cpu, tally.deliveries)} per delivery)"),
        ("bench client CPU broadcasting", f"{client_cpu:.2f} s"),
        ("server RSS idle", f"{before['VmRSS'] / 1024:,.1f} MB"),
        ("server RSS with streams", f"{after_open['VmRSS'] / 1024:,.1f} MB"),
        ("  -> per connection", f"{kb_per_conn:,.1f} KB"),
        ("server RSS after broadcasts", f"{after_bcast['VmRSS'] / 1024:,.1f} MB"),
        ("server threads idle / open / after", _threads(before, after_open, after_bcast)),
        ("hub subscriptions / rings / deliveries", _hub(stats1, stats2)),
        ("streams released after close", released),
        ("hub after close", " ".join(f"{k}={v}" for k, v in stats3.items())),
    ]
    if bad_posts:
        rows.append(("failed publishes", ", ".join(map(str, bad_posts))))
    print_table(f"django-sse first number: {n:,} streams, {events} broadcasts", rows)
    return 2 if lost or bad_posts else 0


async def released_after_close(port: int) -> tuple[str, dict[str, object]]:
    """How long the server takes to drop every closed stream from its hub."""
    started = time.perf_counter()
    while True:
        stats = await get_json(HOST, port, "/bench/stats/")
        elapsed = time.perf_counter() - started
        if stats.get("subscriptions") == 0 and stats.get("leaving") == 0:
            return f"{elapsed:.2f} s", stats
        if elapsed > RELEASE_DEADLINE:
            return f"NOT within {RELEASE_DEADLINE:.0f} s", stats
        await asyncio.sleep(0.05)  # polling interval, bounded by the deadline


def _per(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:,.0f} us" if count else "n/a"


def _threads(*statuses: dict[str, int]) -> str:
    return " / ".join(str(s["Threads"]) for s in statuses)


def _hub(during: dict[str, object], after: dict[str, object]) -> str:
    return f"{during.get('subscriptions')} / {after.get('rings')} / {after.get('deliveries')}"


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print()
    print(title)
    print("-" * (width + 40))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("-" * (width + 40))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        raise_fd_limit(args.n * 2 + 256)  # the client's sockets, and daphne's (inherited)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="django-sse-bench-") as tmp:
        env = bench_env(Path(tmp) / "bench.sqlite3")
        server: Server | None = None
        try:
            migrate(env)
            server = Server(free_port(), env, Path(tmp) / "daphne.log")
            server.wait_ready(timeout=30)
            code = asyncio.run(measure(args, server))
        except Exception as exc:
            print(f"cannot run: {exc!r}", file=sys.stderr)
            code = 1
        finally:
            if server is not None:
                server.stop()
        if server is not None:
            report_output(server)
    return code


def report_output(server: Server) -> None:
    problems = server.problems()
    print(f"daphne output: {len(problems)} notable lines (errors, warnings, killed instances)")
    for line in problems[:20]:
        print("  " + line)
    if server.proc.returncode not in (0, -15):
        print(f"daphne exit status: {server.proc.returncode}")


if __name__ == "__main__":
    sys.exit(main())
