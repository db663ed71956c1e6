"""The real services the end-to-end tests use: databases, Redis, server processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOW_TO_RUN = {
    "Chromium": "as root run `apt-get install -y chromium` (`make test` does); "
    "the browser tests drive /usr/bin/chromium",
    "redis-server": "install Redis (Debian: `apt-get install redis-server`) so tests can "
    "start and restart a Redis of their own",
    "PostgreSQL": "start PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), "
    "or run `bash .ci/run`, which starts it",
    "Redis": "start Redis on 127.0.0.1:6379 (`redis-server --port 6379`), "
    "or run `bash .ci/run`, which starts it",
    "nginx": "install Debian's nginx (`apt-get install -y nginx`; `.ci/run` does): "
    "the tests start their own on a free port",
}


def need(service: str, available: bool) -> None:
    """Skip with how-to-run where a service is missing; fail in CI, which must run all."""
    if available:
        return
    message = f"{service} is not answering: {HOW_TO_RUN[service]}"
    if os.environ.get("SSE_TEST_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Any, timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)


@dataclass
class Backend:
    """One database + channel layer combination, as environment variables."""

    db: str
    layer: str = "memory"
    overrides: dict[str, Any] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # e.g. PROMETHEUS_MULTIPROC_DIR

    def env(self, **overrides: Any) -> dict[str, str]:
        env = {**os.environ, **self.environ}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.server.settings",
            PYTHONPATH=str(ROOT),
            SSE_TEST_DB=self.db,
            SSE_TEST_LAYER=self.layer,
            SSE_TEST_OVERRIDES=json.dumps({**self.overrides, **overrides}),
        )
        return env

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage {args} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def with_layer(self, layer: str) -> Backend:
        return Backend(self.db, layer, dict(self.overrides), dict(self.environ))

    def with_environ(self, **environ: str) -> Backend:
        return Backend(self.db, self.layer, dict(self.overrides), {**self.environ, **environ})

    def publisher(
        self, kind: str, target: str, count: int, tag: str, interval: float = 0.0
    ) -> subprocess.Popen[str]:
        """Start ``tests.publisher`` in a process of its own."""
        command = [
            sys.executable,
            "-m",
            "tests.publisher",
            kind,
            target,
            str(count),
            tag,
            "--interval",
            str(interval),
        ]
        # stderr to a file: a publisher logging through an outage must not block on a pipe
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"django-sse-publisher-{tag}.log"
        return subprocess.Popen(
            command,
            env=self.env(),
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=open(log, "w"),  # noqa: SIM115
        )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> list[int]:
    """The sequence numbers a publisher process printed; fails if it failed."""
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"publisher failed: {process.args!r}; see its log in /tmp"
    return list(json.loads(out))


def pg_connect(dbname: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(host="127.0.0.1", user="postgres", dbname=dbname, autocommit=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"sse_e2e_{uuid.uuid4().hex[:10]}"
    with pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def postgres_available() -> bool:
    try:
        with pg_connect():
            return True
    except Exception:
        return False


class Server:
    """A real ASGI server process (daphne or uvicorn) serving tests.server."""

    def __init__(self, backend: Backend, kind: str = "daphne", **overrides: Any) -> None:
        self.backend = backend
        self.kind = kind
        self.overrides = overrides
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.ignored_signals: tuple[int, ...] = ()  # as a shell's `&` ignores SIGINT
        # one fresh log per server, kept across its restarts: a port reused by an earlier
        # run (or an earlier test) must not lend its old tracebacks to this one
        tmp = Path(os.environ.get("TMPDIR", "/tmp"))
        self._log = tmp / f"django-sse-server-{self.port}-{uuid.uuid4().hex[:8]}.log"
        self._log.write_bytes(b"")

    def command(self) -> list[str]:
        app = "tests.server.asgi:application"
        if self.kind == "uvicorn":
            return [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
            ]
        endpoint = f"tcp:port={self.port}:interface=127.0.0.1:backlog=4096"
        return [sys.executable, "-m", "daphne", "-e", endpoint, app]

    def start(self) -> Server:
        with open(self.log_path(), "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                self.command(),
                env=self.backend.env(**self.overrides),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                preexec_fn=self._ignore_signals if self.ignored_signals else None,
            )
        wait_until(self._ready, timeout=30)
        return self

    def _ignore_signals(self) -> None:
        for signum in self.ignored_signals:
            signal.signal(signum, signal.SIG_IGN)  # kept across exec, as a shell does

    def log_path(self) -> Path:
        return self._log

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited: {self.log_path().read_text()[-2000:]}")
        return port_open(self.port)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def threads(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("Threads:")))

    def restart(self) -> Server:
        """A new process on the same port (after a stop or a kill)."""
        self.stop()
        return self.start()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
