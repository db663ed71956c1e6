"""py-spy against a server during a phase, and a summary of where its CPU went.

``PySpy(pid, out_dir, label).hook`` is a ``loadgen`` hook: it starts ``py-spy
record --format raw`` when a phase begins and stops it (SIGINT, so py-spy writes
its file) when the phase ends. Blocking mode (the process pauses for each
sample, a few percent at this rate): ``--nonblocking`` tears ~40% of the stacks.
``summarize`` reads the collapsed stacks (``frame;frame;... count``; idle
threads excluded, and threads parked in an executor's queue dropped, which
py-spy counts as busy) and ranks functions by self samples, by inclusive
samples, known suspects inclusively, and packages by self samples.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
PACKAGES = (
    "django_sse",
    "daphne",
    "twisted",
    "uvicorn",
    "uvloop",
    "asgiref",
    "channels",
    "django",
    "asyncio",
    "sqlite3",
    "concurrent",
    "bench",
    "stdlib",
)
RATE = 200  # samples per second
# Leaves of threads parked in an executor's queue: py-spy counts them as active.
PARKED = {"_worker (concurrent/futures/thread.py)"}
# Known suspects: a sample counts for one when any frame of its stack matches.
SUSPECTS = {
    "asyncio.timeout around each send (asgi._with_timeout)": r"\(asyncio/timeouts\.py\)",
    "Subscription.wait (a timer per wait)": r"^Subscription\.wait ",
    "Connection._emit (cursor + id line per event)": r"^Connection\._emit ",
    "Connection._render": r"^Connection\._render ",
    "Hub._fan_out": r"^Hub\._fan_out ",
    "Django send_response (all of the send path)": r"^ASGIHandler\.send_response ",
    "daphne/Twisted write (handle_reply)": r"^WebRequest\.handle_reply ",
    "Twisted doWrite (socket send on writable)": r"^FileDescriptor\.doWrite ",
    "epoll modify (add/remove writer)": r"^_PollLikeSelector\.modify ",
    "uvicorn send (httptools)": r"^RequestResponseCycle\.send ",
    "database bursts (run_db)": r"\(django_sse/db\.py\)",
    "sync middleware hops (MiddlewareMixin.__acall__)": r"^MiddlewareMixin\.__acall__ ",
    "thread hops (sync_to_async)": r"^SyncToAsync\.__call__ ",
    "publish (abroadcast)": r"^abroadcast ",
}


def py_spy() -> str:
    """The py-spy next to this interpreter (the bench venv), else one on PATH."""
    here = Path(sys.executable).parent / "py-spy"
    found = str(here) if here.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed (pip install py-spy into bench/.venv)")
    return found


class PySpy:
    def __init__(self, pid: int, out_dir: Path, label: str) -> None:
        self.pid = pid
        self.out_dir = out_dir
        self.label = label
        self.files: dict[str, Path] = {}
        self._proc: asyncio.subprocess.Process | None = None

    async def hook(self, phase: str) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)
            await self._proc.wait()
            self._proc = None
        if not phase:
            return
        path = self.out_dir / f"{self.label}-{phase}.raw"
        self.files[phase] = path
        self._proc = await asyncio.create_subprocess_exec(
            *(py_spy(), "record", "--pid", str(self.pid), "--rate", str(RATE)),
            *("--format", "raw", "--full-filenames", "--output", str(path)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.3)  # py-spy attaches before the phase starts


@dataclass
class Summary:
    samples: int
    self_top: list[tuple[str, int]]
    inclusive_top: list[tuple[str, int]]
    packages: list[tuple[str, int]]
    suspects: list[tuple[str, int]]
    callers: dict[str, list[tuple[str, int]]]  # self-top function -> its top callers


def _name(frame: str) -> tuple[str, str]:
    """("function (short/file.py)", package) of one collapsed frame."""
    match = FRAME.match(frame)
    func, file = (match["func"], match["file"]) if match else (frame, "")
    parts = file.replace("\\", "/").split("/")
    stdlib = next((i for i, p in enumerate(parts) if re.fullmatch(r"python3\.\d+", p)), -1)
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
        package = parts[0]
    elif "django_sse" in parts:
        parts = parts[parts.index("django_sse") :]
        package = "django_sse"
    elif "bench" in parts:
        parts = parts[parts.index("bench") :]
        package = "bench"
    elif stdlib >= 0:
        parts = parts[stdlib + 1 :]
        package = parts[0] if len(parts) > 1 else "stdlib"
    else:
        parts = parts[-2:]
        package = "?"
    if package not in PACKAGES:
        package = "stdlib" if stdlib >= 0 and "site-packages" not in file else "other"
    return f"{func} ({'/'.join(parts)})", package


def summarize(path: Path, top: int = 25) -> Summary:
    self_count: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    suspects: Counter[str] = Counter()
    callers: Counter[tuple[str, str]] = Counter()
    patterns = {label: re.compile(rx) for label, rx in SUSPECTS.items()}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        names = [_name(f) for f in stack.split(";")]
        leaf, package = names[-1]
        if leaf in PARKED:
            continue
        total += count
        self_count[leaf] += count
        packages[package] += count
        if len(names) > 1:
            callers[leaf, names[-2][0]] += count
        unique = {n for n, _ in names}
        for name in unique:
            inclusive[name] += count
        for label, pattern in patterns.items():
            if any(pattern.search(name) for name in unique):
                suspects[label] += count
    self_top = self_count.most_common(top)
    by_leaf: dict[str, list[tuple[str, int]]] = {}
    for (leaf, caller), count in callers.most_common():
        by_leaf.setdefault(leaf, []).append((caller, count))
    return Summary(
        total,
        self_top,
        inclusive.most_common(top),
        packages.most_common(),
        sorted(suspects.items(), key=lambda kv: -kv[1]),
        {leaf: by_leaf.get(leaf, [])[:3] for leaf, _ in self_top[:10]},
    )


def render_summary(summary: Summary, title: str) -> str:
    """The summary as text tables (percent of samples)."""
    total = summary.samples or 1
    lines = [f"{title}: {summary.samples} samples at {RATE}/s (idle excluded)", ""]
    lines.append("by package (self):")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in summary.packages]
    lines.append("")
    lines.append("suspects (inclusive):")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in summary.suspects]
    lines.append("")
    lines.append("self (top callers below the top ten):")
    for name, c in summary.self_top:
        lines.append(f"  {100 * c / total:5.1f}%  {name}")
        for caller, cc in summary.callers.get(name, []):
            lines.append(f"           {100 * cc / total:5.1f}%  <- {caller}")
    lines.append("")
    lines.append("inclusive:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in summary.inclusive_top]
    return "\n".join(lines)
