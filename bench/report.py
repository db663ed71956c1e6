"""Tables of the bench's results (Markdown), the machine, and the suite's targets."""

from __future__ import annotations

import math
import os
import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.scenarios import Idle, Scale, TargetRun

PACKAGES = (
    "Django",
    "asgiref",
    "channels",
    "channels-redis",
    "daphne",
    "Twisted",
    "uvicorn",
    "uvloop",
    "httptools",
    "django-eventstream",
    "sse-starlette",
    "starlette",
    "redis",
)
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


@dataclass
class Results:
    runs: list[TargetRun] = field(default_factory=list)
    idle: Idle | None = None
    scale: Scale | None = None
    errors: dict[str, str] = field(default_factory=dict)  # label -> what failed

    def get(self, key: str) -> TargetRun | None:
        return next((r for r in self.runs if r.target.key == key), None)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, rule, *body])


def num(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def ms(seconds: float) -> str:
    return num(seconds * 1000, 0)


def ratio(a: float, b: float) -> str:
    return "n/a" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}x"


def main_table(results: Results) -> str:
    ours = {key: results.get(key) for key in ("sse-daphne", "sse-uvicorn")}
    header = ["target", "connect N", "CPU ms/conn", "KB/conn", "threads", "deliveries/s"]
    header += ["CPU µs/dlv"]
    header += [f"{k.removeprefix('sse-')} ×" for k, r in ours.items() if r is not None]
    header += ["p50 ms", "p90 ms", "p99 ms", "max ms", "lost"]
    rows = []
    for run in results.runs:
        o, b, p = run.opened, run.burst, run.paced
        row = [run.target.label, f"{o.seconds:.2f} s", num(o.server_cpu / o.n * 1e3, 2)]
        row.append(num(o.kb_per_conn, 1))
        row += [str(o.threads_after), num(b.rate), num(b.server_cpu / max(b.delivered, 1) * 1e6)]
        row += [ratio(r.burst.rate, b.rate) for r in ours.values() if r is not None]
        row += [ms(p.pct(50)), ms(p.pct(90)), ms(p.pct(99)), ms(p.pct(100))]
        lost = b.lost + p.lost
        dups = b.duplicates + p.duplicates
        row.append(f"{lost:,}" + (f" (+{dups:,} dup)" if dups else ""))
        rows.append(row)
    return table(header, rows)


def storm_table(results: Results) -> str:
    header = ["target", "clients", "behind", "all connected", "all caught up", "delivered"]
    header += ["lost", "dup", "server CPU"]
    rows = [
        [
            r.target.label,
            f"{s.n:,}",
            str(s.behind),
            f"{s.opened.seconds:.2f} s"
            + (f" ({s.opened.failed:,} failed)" if s.opened.failed else ""),
            f"{s.seconds:.2f} s" if s.lost == 0 else "not all",
            f"{s.delivered:,}",
            f"{s.lost:,}",
            f"{s.duplicates:,}",
            f"{s.server_cpu:.1f} s",
        ]
        for r in results.runs
        if (s := r.storm) is not None
    ]
    return table(header, rows) if rows else "(no reconnect storm ran)"


def idle_table(idle: Idle) -> str:
    o = idle.opened
    header = ["streams", "connect all", "RSS", "KB/conn", "threads", "idle CPU"]
    header += ["heartbeats", "closed", "1 broadcast to all (p50 / max)", "SIGTERM drain"]
    row = [
        f"{idle.n:,}",
        f"{o.seconds:.1f} s",
        f"{idle.rss_before_kb / 1024:,.0f} -> {idle.rss_after_kb / 1024:,.0f} MB",
        num(o.kb_per_conn, 1),
        str(idle.threads),
        f"{idle.cpu_percent:.1f}% over {idle.window:.0f} s",
        f"{idle.reads:,}",
        str(idle.closed),
        f"{ms(idle.after.pct(50))} / {ms(idle.after.pct(100))} ms, lost {idle.after.lost}",
        f"{idle.drained:,} closed in {idle.drain_seconds:.1f} s",
    ]
    return table(header, [row])


def scale_table(scale: Scale) -> str:
    header = ["processes", "CPU per process", "streams", "deliveries/s", "p50 ms", "p99 ms"]
    header.append("lost")
    pairs = [("as the machine allows", scale.one, scale.two)]
    if scale.one_capped is not None and scale.two_capped is not None:
        pairs.append((f"held to {scale.cap:g} core", scale.one_capped, scale.two_capped))
    rows = [
        [str(k), cpu, f"{scale.n:,}", num(p.rate), ms(p.pct(50)), ms(p.pct(99)), f"{p.lost:,}"]
        for cpu, one, two in pairs
        for k, p in ((1, one), (2, two))
    ]
    text = f"\n\nTwo processes / one: **{scale.ratio:.2f}x** as the machine allows"
    if (capped := scale.capped_ratio) is not None:
        text += f"; **{capped:.2f}x** with each process held to {scale.cap:g} core"
    return table(header, rows) + text


def _check(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def targets_table(results: Results) -> str:
    d, u = results.get("sse-daphne"), results.get("sse-uvicorn")
    es, st, nv = results.get("eventstream"), results.get("starlette"), results.get("naive")
    rows: list[list[str]] = []

    def add(what: str, value: str, ok: bool | None) -> None:
        rows.append([what, value, _check(ok)])

    if d is not None:
        if es is not None:
            x = d.burst.rate / es.burst.rate
            add("daphne deliveries/s ≥ 5x django-eventstream", f"{x:.2f}x", x >= 5)
        add("daphne p99 paced ≤ 300 ms", f"{ms(d.paced.pct(99))} ms", d.paced.pct(99) <= 0.3)
        add(
            "daphne ≤ 30 KB per connection",
            num(d.opened.kb_per_conn, 1),
            d.opened.kb_per_conn <= 30,
        )
        add(
            f"daphne {d.opened.n:,} connects ≤ 3 s",
            f"{d.opened.seconds:.2f} s",
            d.opened.seconds <= 3,
        )
        if nv is not None:
            x = d.burst.rate / nv.burst.rate
            add("daphne beats the naive Django view (deliveries/s)", f"{x:.2f}x", x > 1)
    if u is not None:
        if st is not None:
            x = u.burst.rate / st.burst.rate
            add("uvicorn deliveries/s ≥ 1.5x sse-starlette", f"{x:.2f}x", x >= 1.5)
        add("uvicorn p99 paced ≤ 150 ms", f"{ms(u.paced.pct(99))} ms", u.paced.pct(99) <= 0.15)
        add(
            "uvicorn ≤ 25 KB per connection",
            num(u.opened.kb_per_conn, 1),
            u.opened.kb_per_conn <= 25,
        )
    if (idle := results.idle) is not None:
        steady = idle.closed == 0 and idle.after.lost == 0
        add(f"{idle.n:,} streams steady when idle", f"{idle.cpu_percent:.1f}% CPU", steady)
    if (scale := results.scale) is not None:
        ratio = scale.capped_ratio if scale.capped_ratio is not None else scale.ratio
        held = f" (each held to {scale.cap:g} core)" if scale.capped_ratio is not None else ""
        add("2 processes on Redis ≥ 1.8x one", f"{ratio:.2f}x{held}", ratio >= 1.8)
    return table(["target", "measured", ""], rows)


def machine() -> list[str]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.partition(":")[2].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return [
        f"{os.cpu_count()} cores ({cpu}), {int(mem) / 1024**2:.0f} GB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}",
        ", ".join(versions),
    ]


def render(results: Results, command: str, date: str, loads: tuple[str, str]) -> str:
    parts = [
        f"Run {date} with `{command}`. Load average (1 min) {loads[0]} before, {loads[1]} after"
        " (the bench's own processes count in the second: about 2 while it runs).",
        "",
        *(f"- {line}" for line in machine()),
        "",
        "Per target (deliveries/s and server CPU per delivery: back to back; latency: paced;"
        " `×`: django-sse's deliveries/s divided by that row's):",
        "",
        main_table(results),
        "",
        "Reconnect storm (every client at once, its cursor behind by the burst):",
        "",
        storm_table(results),
    ]
    if results.idle is not None:
        parts += [
            "",
            "Open streams on one django-sse process (daphne), default 15 s heartbeat; idle CPU"
            " over a 10 s window centred on a heartbeat round; then SIGTERM with all open:",
            "",
            idle_table(results.idle),
        ]
    if results.scale is not None:
        parts += [
            "",
            "django-sse on Redis (channels-redis), daphne:",
            "",
            scale_table(results.scale),
        ]
    parts += ["", "Against the targets we set for the suite:", "", targets_table(results)]
    if results.errors:
        parts += ["", "Failed:", ""] + [f"- {k}: {v}" for k, v in results.errors.items()]
    return "\n".join(parts)


def write_docs(path: Path, text: str) -> None:
    """Replace the results between the markers in ``path`` (append them if absent)."""
    doc = path.read_text()
    block = f"{START}\n{text}\n{END}"
    if START in doc and END in doc:
        doc = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)


def print_problems(results: Results) -> None:
    runs: list[tuple[str, list[str]]] = [(r.target.label, r.problems) for r in results.runs]
    if results.idle is not None:
        runs.append(("idle streams", results.idle.problems))
    if results.scale is not None:
        runs.append(("redis scale", results.scale.problems))
    for label, problems in runs:
        if problems:
            print(f"{label}: {len(problems)} notable server output lines", file=sys.stderr)
            for line in problems[:10]:
                print("  " + line, file=sys.stderr)
