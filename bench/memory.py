"""Where a django-sse server's memory per open stream goes (tracemalloc), vs the naive view.

    python bench/memory.py [--n 1000] [--targets sse-daphne,naive] [--top 25]

Starts each target with tracemalloc on (``DJANGO_SSE_BENCH_TRACEMALLOC``), takes a
baseline once the server is warm, opens N streams, waits until every one is live,
and prints the allocation sites that grew, in bytes per stream. RSS per stream
is higher than what Python allocates (allocator slack, sockets, thread stacks);
the traced total is printed beside it. Run it with the bench's virtualenv
(``bench/.venv/bin/python``) or the project's for the daphne targets.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import HOST, Load, Options  # noqa: E402
from bench.sse_client import get_json  # noqa: E402
from bench.targets import TARGETS, start, stop  # noqa: E402


async def measure(key: str, n: int, top: int, workdir: Path) -> None:
    servers = start(TARGETS[key], workdir, env={"DJANGO_SSE_BENCH_TRACEMALLOC": "1"})
    load = Load(servers, Options(n=n, connect_timeout=300.0))
    port = servers[0].port
    try:
        await load.warm_servers()
        await get_json(HOST, port, "/bench/memory/?action=mark")
        opened = await load.open(n)
        await load.warm_up(opened)
        diff = await get_json(HOST, port, f"/bench/memory/?action=diff&top={top}")
    finally:
        load.close()
        stop(servers)
    print(f"\n{TARGETS[key].label}: {n:,} streams")
    print(f"RSS {opened.kb_per_conn:.1f} KB per stream, traced {diff['total'] / n / 1024:.1f} KB")
    for site in diff["sites"]:
        where = site["site"].replace(str(Path(sys.prefix)), "<venv>")
        print(f"  {site['bytes'] / n:8.0f} B  {site['count'] / n:6.1f} blocks  {where}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--targets", default="sse-daphne,naive")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="django-sse-memory-") as tmp:
        for key in args.targets.split(","):
            asyncio.run(measure(key, args.n, args.top, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
