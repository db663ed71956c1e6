"""First number: N open streams on one daphne process serving django-sse, some broadcasts.

Run ``python bench/first_number.py [--n 1000] [--events 10] [--interval 0.1]``
(the project's ``.venv`` is enough: it needs only django-sse and daphne). It
migrates a fresh SQLite file, starts daphne serving ``bench.asgi``, opens N
``GET /events/`` streams over raw sockets, waits until every stream is live
(it has received a warm-up broadcast), then publishes ``--events`` broadcasts
back to back and ``--events`` paced ``--interval`` apart, and prints the details.
The comparison with the peers is ``bench/run.py``. Exit status: 0 done, 1 could
not run, 2 ran but lost deliveries.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Load, Options, Phase  # noqa: E402
from bench.sse_client import get_json  # noqa: E402
from bench.targets import TARGETS, start, stop  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--n", type=int, default=1000, help="open streams (default 1000)")
    p.add_argument("--events", type=int, default=10, help="broadcasts per phase (default 10)")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between paced ones")
    p.add_argument("--deadline", type=float, default=30.0, help="seconds after the last publish")
    args = p.parse_args(argv)
    if args.n < 1 or args.events < 1:
        p.error("--n and --events must be at least 1")
    return args


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def phase_rows(name: str, phase: Phase) -> list[tuple[str, str]]:
    per = phase.server_cpu / phase.delivered * 1e6 if phase.delivered else float("nan")
    return [
        (
            f"{name}: delivered / lost / dup",
            f"{phase.delivered:,} / {phase.lost:,} / {phase.duplicates:,}",
        ),
        (f"{name}: deliveries/s", f"{phase.rate:,.0f}  (first publish -> last delivery)"),
        (
            f"{name}: latency p50 / p90 / p99 / max",
            " / ".join(ms(phase.pct(p)) for p in (50, 90, 99, 100)),
        ),
        (f"{name}: server CPU", f"{phase.server_cpu:.2f} s  ({per:,.0f} us per delivery)"),
        (f"{name}: bench client CPU", f"{phase.client_cpu:.2f} s"),
    ]


async def measure(args: argparse.Namespace, workdir: Path) -> int:
    servers = start(TARGETS["sse-daphne"], workdir)
    options = Options(args.n, args.events, args.events, args.interval, args.deadline)
    load = Load(servers, options)
    try:
        await load.warm_servers()
        opened = await load.open(args.n)
        await load.warm_up(opened)
        burst = await load.burst(args.events)
        paced = await load.paced(args.events, args.interval)
        hub = await get_json("127.0.0.1", servers[0].port, "/bench/stats/")
        closed = load.tally.closed
    finally:
        load.close()
        await asyncio.sleep(0.1)  # let the aborts go out before daphne stops
        problems = stop(servers)
    c = opened.connects
    rows = [
        ("streams open", f"{opened.n:,} (closed by server: {closed})"),
        (
            "open all (burst)",
            f"{opened.seconds:.2f} s  ({opened.n / opened.seconds:,.0f} connects/s)",
        ),
        ("connect p50 / max", f"{ms(c[len(c) // 2])} / {ms(c[-1])}"),
        (
            "server CPU opening",
            f"{opened.server_cpu:.2f} s  ({opened.server_cpu / opened.n * 1e3:.2f} ms per stream)",
        ),
        ("all live after (warm-up)", f"{opened.live_after:.2f} s, {opened.warmups} broadcasts"),
        ("streams that missed the 1st warm-up", str(opened.missed_first_warmup)),
        *phase_rows("back to back", burst),
        *phase_rows(f"paced {args.interval:g} s", paced),
        (
            "server RSS idle / with streams",
            f"{opened.rss_before_kb / 1024:,.1f} / {opened.rss_after_kb / 1024:,.1f} MB",
        ),
        ("  -> per connection", f"{opened.kb_per_conn:,.1f} KB"),
        ("server threads idle / open", f"{opened.threads_before} / {opened.threads_after}"),
        ("hub", " ".join(f"{k}={v}" for k, v in hub.items())),
        ("daphne output: notable lines", str(len(problems))),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\ndjango-sse first number: {args.n:,} streams, {args.events} broadcasts per phase")
    print("-" * (width + 40))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("-" * (width + 40))
    for line in problems[:20]:
        print("  " + line)
    return 2 if burst.lost or paced.lost else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="django-sse-bench-") as tmp:
        try:
            return asyncio.run(measure(args, Path(tmp)))
        except Exception as exc:
            print(f"cannot run: {exc!r}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
