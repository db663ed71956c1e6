"""Scale-out on Redis: 1, 2 and 4 django-sse processes (daphne), each held to the same
CPU share, sharing N streams; burst deliveries/s of each count and its ratio to one.

Run ``python bench/scale.py [--n 4000] [--cap 0.25] [--events 20]`` (it builds and uses
``bench/.venv`` as ``bench/run.py`` does; it needs Redis on 127.0.0.1:6379 and cgroups
for the caps). Holding every process to ``--cap`` cores makes the machine's two cores
stand for a fleet of small servers: four processes at 0.25 core use one core in all,
which leaves the load generator the other.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    from bench.run import ensure_venv

    ensure_venv(sys.argv[1:] if argv is None else argv, script=Path(__file__))
    from bench.cpucap import CpuCap
    from bench.loadgen import Options
    from bench.scenarios import _redis_burst
    from bench.targets import TARGETS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--n", type=int, default=4000, help="open streams in all (default 4000)")
    p.add_argument("--cap", type=float, default=0.25, help="cores per process (default 0.25)")
    p.add_argument("--events", type=int, default=20, help="broadcasts in the burst")
    args = p.parse_args(argv)
    if not CpuCap.available():
        print("cgroups do not allow CPU caps here: nothing measured", file=sys.stderr)
        return 1
    options = Options(n=args.n, events=args.events)
    rows = []
    with tempfile.TemporaryDirectory(prefix="django-sse-scale-") as folder:
        for count in (1, 2, 4):
            phase, problems = asyncio.run(
                _redis_burst(TARGETS["sse-daphne"], Path(folder), options, count, args.cap)
            )
            rows.append((count, phase.rate, phase.lost, phase.pct(0.99) * 1000, problems))
    one = rows[0][1]
    print(f"\n{args.n:,} streams on Redis, daphne processes held to {args.cap:g} core each:\n")
    print("| processes | cores in all | deliveries/s | x one process | p99 ms | lost |")
    print("|---|---|---|---|---|---|")
    for count, rate, lost, p99, _ in rows:
        print(
            f"| {count} | {count * args.cap:g} | {rate:,.0f} | {rate / one:.2f}x "
            f"| {p99:,.0f} | {lost} |"
        )
    for count, *_, problems in rows:
        for problem in problems:
            print(f"  {count} processes: {problem}")
    return 0 if all(lost == 0 for _, _, lost, _, _ in rows) else 2


if __name__ == "__main__":
    sys.exit(main())
