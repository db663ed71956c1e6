"""The publish benchmark: how fast events get from a worker into the log and the layer.

``python bench/publish.py [--n 2000] [--db sqlite,postgres] [--e2e 10000]`` (or
through ``bench/run.py``): on each database, in one run, each case in a fresh
worker process (``bench.publish_worker``) on channels-redis:

- the floors: a bare ``INSERT`` + ``COMMIT`` per event (and the ``INSERT`` alone in
  autocommit), a bare Redis ``PUBLISH``;
- django-sse: ``send_to_stream`` on one stream, ``send_to_user`` over 500 users,
  ``persist=False``, ``asend_to_stream`` in an event loop, ``send_to_users`` to
  10,000 users in one call, 4 processes at once on one stream;
- django-eventstream's ``send_event`` with its database storage and Redis.

Then, on PostgreSQL, the end-to-end check: ``--e2e`` users hold a stream each on
two daphne processes, one ``send_to_users`` call notifies them all, and every
stream must receive its event exactly once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.server import ROOT, bench_env, migrate  # noqa: E402

SETTINGS = "bench.publish_settings"
CONCURRENT = 4  # publisher processes of the hot-stream case
START_DELAY = 3.0  # seconds for the concurrent workers to start before the clock


@dataclass
class Db:
    kind: str  # "sqlite" or "postgres"
    name: str  # a file or a database name

    @property
    def env(self) -> dict[str, str]:
        return {"DJANGO_SSE_BENCH_DATABASE": f"{self.kind}:{self.name}"}


def worker_env(db: Db, prefix: str, workdir: Path) -> dict[str, str]:
    return bench_env(workdir / "unused.sqlite3", SETTINGS, DJANGO_SSE_BENCH_PREFIX=prefix, **db.env)


def run_worker(env: dict[str, str], case: str, n: int, **extra: str) -> subprocess.Popen[str]:
    flags = [f"--{k}={v}" for k, v in extra.items()]
    command = [sys.executable, "-m", "bench.publish_worker", case, str(n), *flags]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)


CPU: dict[str, float] = {}  # case -> publisher CPU microseconds per event, last run


def result(process: subprocess.Popen[str]) -> tuple[float, float]:
    """Events per second the worker measured, and its CPU seconds."""
    out, _ = process.communicate(timeout=600)
    if process.returncode:
        raise RuntimeError(f"{process.args!r} failed ({process.returncode})")
    done = json.loads(out.strip().splitlines()[-1])
    return float(done["events"] / done["seconds"]), float(done.get("cpu", 0.0))


def one(env: dict[str, str], case: str, n: int) -> float:
    rate, cpu = result(run_worker(env, case, n))
    CPU[case] = cpu / max(n, 1) * 1e6
    return rate


def concurrent(env: dict[str, str], n: int) -> float:
    """Total events per second of ``CONCURRENT`` workers on one stream."""
    start = time.time() + START_DELAY
    workers = [
        run_worker(env, "stream", n, start=f"{start}", tag=f"c{i}") for i in range(CONCURRENT)
    ]
    done = [result(w) for w in workers]
    slowest = max(n / rate for rate, _ in done)  # they started together: the last one ends
    cores = sum(cpu for _, cpu in done) / slowest
    print(f"  the {CONCURRENT} publishers used {cores:.2f} cores", file=sys.stderr)
    return CONCURRENT * n / slowest


def create_postgres() -> str:
    name = f"sse_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'CREATE DATABASE "{name}"'],
        check=True,
    )
    return name


def drop_postgres(name: str) -> None:
    drop = f'DROP DATABASE "{name}" WITH (FORCE)'
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", drop], check=False)


def measure_db(db: Db, n: int, workdir: Path) -> dict[str, float]:
    env = worker_env(db, f"pub{uuid.uuid4().hex[:6]}", workdir)
    migrate(env)
    one(env, "setup", 0)
    rates: dict[str, float] = {}
    cases = [
        ("floor-insert", n),
        ("floor-autocommit", n),
        ("floor-redis", n * 5),
        ("stream", n),
        ("users", n),
        ("ephemeral", n * 10),
        ("async", n),
        ("eventstream", n),
        ("bulk", 10_000),
    ]
    for case, count in cases:
        rates[case] = one(env, case, count)
        cpu = CPU[case]
        print(
            f"  {db.kind} {case}: {rates[case]:,.0f} events/s, {cpu:.0f} µs CPU each",
            file=sys.stderr,
        )
    rates["concurrent"] = concurrent(env, n)
    # What the flush of each commit costs: PostgreSQL's `synchronous_commit = off`,
    # SQLite's `synchronous = NORMAL` (in WAL mode: durable up to the last checkpoint).
    relaxed = {**env, "DJANGO_SSE_BENCH_SYNC_COMMIT": "off"}
    rates["stream-nosync"] = one(relaxed, "stream", n)
    rates["concurrent-nosync"] = concurrent(relaxed, n)
    for case in ("concurrent", "stream-nosync", "concurrent-nosync"):
        if case in rates:
            print(f"  {db.kind} {case}: {rates[case]:,.0f} events/s", file=sys.stderr)
    return rates


ROWS = [
    ("floor-insert", "bare INSERT + COMMIT per event (the floor)"),
    ("floor-autocommit", "bare INSERT in autocommit (one round trip)"),
    ("floor-redis", "bare Redis PUBLISH per event (the floor)"),
    ("stream", "`send_to_stream`, one stream, sync from a worker"),
    ("users", "`send_to_user`, 500 users in turn"),
    ("async", "`asend_to_stream` in an event loop"),
    ("ephemeral", "`persist=False` (ring only)"),
    ("bulk", "`send_to_users`, 10,000 users in one call"),
    ("concurrent", f"`send_to_stream`, {CONCURRENT} processes on one stream (total)"),
    ("stream-nosync", "`send_to_stream`, one process, commits not flushed (see below)"),
    ("concurrent-nosync", f"`send_to_stream`, {CONCURRENT} processes, commits not flushed"),
    ("eventstream", "django-eventstream `send_event`, database storage + Redis"),
]


def render(all_rates: dict[str, dict[str, float]]) -> str:
    kinds = list(all_rates)
    head = "| case | " + " | ".join(f"{k} events/s | vs INSERT | vs peer" for k in kinds) + " |"
    lines = [head, "|---|" + "---:|---:|---:|" * len(kinds)]
    for key, label in ROWS:
        cells = []
        for kind in kinds:
            rates = all_rates[kind]
            if key not in rates:
                cells.append("- | - | -")
                continue
            rate = rates[key]
            floor = rate / rates["floor-insert"]
            peer = rate / rates["eventstream"]
            cells.append(f"{rate:,.0f} | {floor:.2f}x | {peer:.1f}x")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from bench.run import ensure_venv

    ensure_venv(argv, script=Path(__file__))
    parser = argparse.ArgumentParser(description="django-sse's publish benchmark")
    parser.add_argument("--n", type=int, default=2000, help="events per single-publish case")
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated databases")
    parser.add_argument("--e2e", type=int, default=10_000, help="streams of the end-to-end check")
    args = parser.parse_args(argv)
    all_rates: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="django-sse-publish-") as tmp:
        workdir = Path(tmp)
        for kind in args.db.split(","):
            if kind == "sqlite":
                db = Db(kind, str(workdir / "pub.sqlite3"))
                all_rates[kind] = measure_db(db, args.n, workdir)
                continue
            name = create_postgres()
            try:
                db = Db(kind, name)
                all_rates[kind] = measure_db(db, args.n, workdir)
                if args.e2e:
                    from bench.publish_e2e import check

                    env = worker_env(db, f"e2e{uuid.uuid4().hex[:6]}", workdir)
                    print(check(env, args.e2e, workdir))
            finally:
                drop_postgres(name)
    print(render(all_rates))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
