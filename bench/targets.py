"""The servers the bench compares, and how to start each one.

Every target serves ``GET /events/`` (one broadcast stream) and ``POST
/bench/publish/`` (see ``bench.payload``) on 127.0.0.1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.server import Server, bench_env, daphne_cmd, free_port, migrate, uvicorn_cmd


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    server: str  # "daphne", "uvicorn" or "asyncio"
    app: str  # ASGI app ("module:attr") or, for "asyncio", the module to run
    settings: str = ""  # DJANGO_SETTINGS_MODULE; "" when not Django
    recovers: bool = False  # resumes from Last-Event-ID (runs the reconnect storm)
    ours: bool = False  # django-sse itself

    def command(self, port: int) -> list[str]:
        if self.server == "daphne":
            return daphne_cmd(self.app, port)
        if self.server == "uvicorn":
            return uvicorn_cmd(self.app, port, lifespan=not self.settings)
        return [sys.executable, "-m", self.app, "--port", str(port)]


# django-eventstream runs last: its thread per stream and its storm load the machine
# for a while after it stops.
TARGETS = {
    t.key: t
    for t in (
        Target(
            "sse-daphne",
            "django-sse (daphne)",
            "daphne",
            "bench.asgi:application",
            "bench.settings",
            recovers=True,
            ours=True,
        ),
        Target(
            "sse-uvicorn",
            "django-sse (uvicorn)",
            "uvicorn",
            "bench.asgi:application",
            "bench.settings",
            recovers=True,
            ours=True,
        ),
        Target("starlette", "sse-starlette (uvicorn)", "uvicorn", "bench.starlette_app:app"),
        Target(
            "naive",
            "naive Django view (daphne)",
            "daphne",
            "bench.asgi:application",
            "bench.naive_settings",
        ),
        Target("floor", "bare asyncio floor", "asyncio", "bench.floor"),
        Target(
            "eventstream",
            "django-eventstream (daphne)",
            "daphne",
            "bench.eventstream_asgi:application",
            "bench.eventstream_settings",
            recovers=True,
        ),
    )
}


def start(
    target: Target,
    workdir: Path,
    *,
    count: int = 1,
    ready_timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> list[Server]:
    """Migrate a fresh database (Django targets) and start ``count`` processes on it."""
    db = workdir / f"{target.key}.sqlite3"
    environ = bench_env(db, target.settings or "bench.settings", **(env or {}))
    if target.settings and target.settings != "bench.naive_settings":
        migrate(environ)
    servers: list[Server] = []
    try:
        for i in range(count):
            port = free_port()
            log = workdir / f"{target.key}-{i}.log"
            servers.append(Server(target.command(port), port, environ, log, target.server))
        for server in servers:
            server.wait_ready(ready_timeout)
    except BaseException:
        stop(servers)
        raise
    return servers


def stop(servers: list[Server], timeout: float = 10.0) -> list[str]:
    """Stop every server (SIGTERM, SIGKILL after ``timeout`` s); notable output lines."""
    problems: list[str] = []
    for server in servers:
        took = server.stop(timeout)
        problems.extend(server.problems())
        if server.proc.returncode not in (0, -15):
            problems.append(
                f"{server.name} exit status {server.proc.returncode} ({took:.1f} s after SIGTERM)"
            )
    return problems
