"""py-spy against a server during a phase, and a summary of where its CPU went.

``PySpy(pid, out_dir, label).hook`` is a ``loadgen`` hook: it starts ``py-spy
record --format raw --nonblocking`` when a phase begins and stops it (SIGINT, so
py-spy writes its file) when the phase ends. ``summarize`` reads the collapsed
stacks (``frame;frame;... count``, idle threads excluded) and ranks functions by
self samples, by inclusive samples, and packages by self samples.
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
)
RATE = 200  # samples per second


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
            *("--format", "raw", "--nonblocking", "--output", str(path)),
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


def _name(frame: str) -> tuple[str, str]:
    """("function (short/file.py)", package) of one collapsed frame."""
    match = FRAME.match(frame)
    func, file = (match["func"], match["file"]) if match else (frame, "")
    parts = file.replace("\\", "/").split("/")
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "django_sse" in parts:
        parts = parts[parts.index("django_sse") :]
    elif "bench" in parts:
        parts = parts[parts.index("bench") :]
    else:
        parts = parts[-2:]
    short = "/".join(parts)
    package = parts[0] if parts else ""
    if package.endswith(".py"):
        package = package[:-3]
    if package not in PACKAGES:
        package = "other" if package else "?"
    return f"{func} ({short})", package


def summarize(path: Path, top: int = 25) -> Summary:
    self_count: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = [_name(f) for f in stack.split(";")]
        leaf, package = names[-1]
        self_count[leaf] += count
        packages[package] += count
        for name in {n for n, _ in names}:
            inclusive[name] += count
    return Summary(
        total, self_count.most_common(top), inclusive.most_common(top), packages.most_common()
    )


def render_summary(summary: Summary, title: str) -> str:
    """The summary as text tables (percent of samples)."""
    total = summary.samples or 1
    lines = [f"{title}: {summary.samples} samples at {RATE}/s (idle excluded)", ""]
    lines.append("by package (self):")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in summary.packages]
    lines.append("")
    lines.append("self:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in summary.self_top]
    lines.append("")
    lines.append("inclusive:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in summary.inclusive_top]
    return "\n".join(lines)
