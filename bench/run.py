"""Run the whole benchmark suite with one command.

``python bench/run.py [--n 4000] [--targets ...] [--write-docs]`` (any Python >=
3.11): it builds ``bench/.venv`` from ``bench/requirements.txt`` when missing or
out of date, re-runs itself there, then measures every target in turn (the
peers, the naive view, the floor), the reconnect storm, 10,000 idle streams and
two processes on Redis, then publishing from workers (``bench/publish.py``); prints
Markdown tables and, with ``--write-docs``, puts
them in ``docs/benchmarks.md``. ``--profile DIR`` instead runs the chosen
targets under py-spy and prints where each server's CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
sys.path.insert(0, str(ROOT))

# Standard library only at import time: this module first runs in any Python.
from bench.experiments import PATCHES  # noqa: E402
from bench.loadgen import Load, Options  # noqa: E402
from bench.profiling import PySpy, render_summary, summarize  # noqa: E402
from bench.report import Results, print_problems, render, write_docs  # noqa: E402
from bench.scenarios import TargetRun, idle_streams, redis_scale, run_target  # noqa: E402
from bench.targets import TARGETS, Target, start, stop  # noqa: E402


def ensure_venv(argv: list[str], script: Path = Path(__file__)) -> None:
    """Re-exec ``script`` in ``bench/.venv``, building or updating it first."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if not stamp.exists():
        print(f"building {VENV} from {REQUIREMENTS.name} ...", file=sys.stderr)
        base = getattr(sys, "_base_executable", sys.executable)
        if not python.exists():
            subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True, cwd=ROOT)
        stamp.touch()
    os.execv(str(python), [str(python), str(script.resolve()), *argv])


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="django-sse's benchmark suite")
    p.add_argument("--n", type=int, default=4000, help="subscribers per target (4000)")
    p.add_argument("--events", type=int, default=20, help="back-to-back broadcasts (20)")
    p.add_argument("--paced", type=int, default=10, help="paced broadcasts (10)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between paced (1.0)")
    p.add_argument("--deadline", type=float, default=60.0, help="seconds per phase after publish")
    p.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"comma-separated, of: {', '.join(TARGETS)} (all)",
    )
    p.add_argument("--skip", default="", help="comma-separated, of: storm, idle, redis, publish")
    p.add_argument("--idle-n", type=int, default=10_000, help="streams of the idle test")
    p.add_argument("--wait-load", type=float, default=0.0, help="wait for loadavg below this")
    p.add_argument("--wait-max", type=float, default=900.0, help="seconds to wait for it")
    p.add_argument("--write-docs", action="store_true", help="write docs/benchmarks.md")
    p.add_argument("--profile", metavar="DIR", type=Path, help="py-spy the targets instead")
    p.add_argument(
        "--patches",
        action="append",
        default=[],
        metavar="A,B",
        help="also run django-sse with these bench.experiments prototypes (repeat for"
        f" several variants): {', '.join(PATCHES)}",
    )
    args = p.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    args.patches = [[x for x in v.split(",") if x] for v in args.patches]
    args.skip = {s for s in args.skip.split(",") if s}
    for what, given, known in (
        ("--targets", set(args.targets), set(TARGETS)),
        ("--patches", {x for v in args.patches for x in v}, set(PATCHES)),
        ("--skip", args.skip, {"storm", "idle", "redis", "publish"}),
    ):
        if unknown := given - known:
            p.error(f"unknown {what}: {', '.join(sorted(unknown))}")
    return args


def wait_for_quiet(limit: float, longest: float) -> None:
    """Wait (up to ``longest`` s) until the 1-minute load average is below ``limit``."""
    deadline = time.monotonic() + longest
    while (load := os.getloadavg()[0]) >= limit and time.monotonic() < deadline:
        print(f"load average {load:.2f} >= {limit}: waiting", file=sys.stderr)
        time.sleep(30)  # the 1-minute average needs time to fall


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def measure(args: argparse.Namespace, workdir: Path) -> Results:
    options = Options(args.n, args.events, args.paced, args.interval, args.deadline)
    results = Results()
    # django-eventstream's thread per stream loads the machine long after it stops:
    # it runs after everything else.
    chosen = variants(args)
    for target, env in [v for v in chosen if v[0].key != "eventstream"]:
        await measure_target(target, env, args, workdir, options, results)
    if "idle" not in args.skip:
        say(f"idle: {args.idle_n:,} streams ...")
        try:
            results.idle = await idle_streams(TARGETS["sse-daphne"], workdir, args.idle_n)
        except Exception as exc:
            results.errors["idle streams"] = repr(exc)
    if "redis" not in args.skip:
        say("redis: one process, then two; then each held to half a core ...")
        try:
            results.scale = await redis_scale(TARGETS["sse-daphne"], workdir, options)
        except Exception as exc:
            results.errors["redis"] = repr(exc)
    for target, env in [v for v in chosen if v[0].key == "eventstream"]:
        await measure_target(target, env, args, workdir, options, results)
    return results


async def measure_target(
    target: Target,
    env: dict[str, str],
    args: argparse.Namespace,
    workdir: Path,
    options: Options,
    results: Results,
) -> None:
    say(f"{target.label}: {args.n:,} streams ...")
    try:
        run = await run_target(target, workdir, options, storm="storm" not in args.skip, env=env)
    except Exception as exc:
        results.errors[target.label] = repr(exc)
        say(f"  failed: {exc!r}")
        return
    results.runs.append(run)
    say(f"  {summary(run)}")


def variants(args: argparse.Namespace) -> list[tuple[Target, dict[str, str]]]:
    """The targets to run, each of django-sse's twice when ``--patches`` asks for it."""
    out: list[tuple[Target, dict[str, str]]] = []
    for key in args.targets:
        target = TARGETS[key]
        out.append((target, {}))
        for i, names in enumerate(args.patches if target.ours else []):
            patched = ",".join(names)
            label = f"{target.label} +{patched}"
            variant = dataclasses.replace(target, key=f"{key}+{i}", label=label, ours=False)
            out.append((variant, {"DJANGO_SSE_BENCH_PATCHES": patched}))
    return out


def say(text: str) -> None:
    print(
        f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {text}",
        file=sys.stderr,
        flush=True,
    )


def summary(run: TargetRun) -> str:
    o, b, p = run.opened, run.burst, run.paced
    text = (
        f"open {o.seconds:.2f} s, {o.kb_per_conn:.1f} KB/conn, {o.threads_after} threads; "
        f"burst {b.rate:,.0f}/s lost {b.lost}; paced p99 {p.pct(99) * 1000:.0f} ms lost {p.lost}"
    )
    if (s := run.storm) is not None:
        text += f"; storm {s.seconds:.2f} s lost {s.lost} failed {s.opened.failed}"
    return text


async def profile(args: argparse.Namespace, workdir: Path) -> None:
    args.profile.mkdir(parents=True, exist_ok=True)
    options = Options(args.n, args.events, args.paced, args.interval, args.deadline)
    for key in args.targets:
        patched = ",".join(x for v in args.patches for x in v) if TARGETS[key].ours else ""
        env = {"DJANGO_SSE_BENCH_PATCHES": patched} if patched else {}
        servers = start(TARGETS[key], workdir, env=env)
        spy = PySpy(servers[0].pid, args.profile, key)
        load = Load(servers, options, spy.hook)
        try:
            await load.warm_servers()
            opened = await load.open(args.n)
            await load.warm_up(opened)
            burst = await load.burst(args.events)
            paced = await load.paced(args.paced, args.interval)
        finally:
            load.close()
            stop(servers)
        print(f"\n## {key}: open {opened.seconds:.2f} s, burst {burst.rate:,.0f}/s", end="")
        print(f" ({burst.server_cpu / max(burst.delivered, 1) * 1e6:.0f} us CPU per delivery)")
        print(f"paced p99 {paced.pct(99) * 1000:.0f} ms (numbers under py-spy: indicative)")
        for phase, path in spy.files.items():
            print("\n" + render_summary(summarize(path), f"{key} {phase}"))


def main(argv: list[str]) -> int:
    ensure_venv(argv)
    args = parse_args(argv)

    raise_fd_limit()
    if args.wait_load:
        wait_for_quiet(args.wait_load, args.wait_max)
    load_before = f"{os.getloadavg()[0]:.2f}"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="django-sse-bench-") as tmp:
        if args.profile:
            asyncio.run(profile(args, Path(tmp)))
            return 0
        results = asyncio.run(measure(args, Path(tmp)))
    command = "python bench/run.py " + " ".join(argv) if argv else "python bench/run.py"
    text = render(results, command.strip(), date, (load_before, f"{os.getloadavg()[0]:.2f}"))
    print(text)
    print_problems(results)
    if "publish" not in args.skip and not args.profile:
        # Publishing from workers, on SQLite and PostgreSQL (bench/publish.py).
        publish = [sys.executable, str(HERE / "publish.py")]
        subprocess.run(publish, cwd=ROOT, check=False)
    if args.write_docs:
        write_docs(ROOT / "docs" / "benchmarks.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
