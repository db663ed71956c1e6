"""Server processes for the bench: migrate, start, watch (/proc), stop.

Every server runs with this interpreter (``sys.executable``: the bench's own
virtualenv when started by ``bench/run.py``) and with the checkout on
``PYTHONPATH``, so django-sse is the working tree's code.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "bench.settings"
PROBLEM = re.compile(rb"Traceback|ERROR|WARNING|CRITICAL|Exception|exception|Killed [1-9]")
BACKLOG = 4096  # daphne's default of 50 drops connects under a burst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bench_env(db_path: Path, settings: str = SETTINGS, **extra: str) -> dict[str, str]:
    """The environment of a server: its settings module, database file and knobs."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["DJANGO_SSE_BENCH_DB"] = str(db_path)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def migrate(env: dict[str, str]) -> None:
    settings = env["DJANGO_SETTINGS_MODULE"]
    cmd = [sys.executable, "manage.py", "migrate", "--noinput", f"--settings={settings}"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def daphne_cmd(app: str, port: int) -> list[str]:
    endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog={BACKLOG}"
    return [sys.executable, "-m", "daphne", "-e", endpoint, app]


def uvicorn_cmd(app: str, port: int, *, lifespan: bool) -> list[str]:
    """uvicorn with its defaults (uvloop and httptools: ``uvicorn[standard]``)."""
    return [
        *(sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)),
        *("--backlog", str(BACKLOG), "--no-access-log", "--log-level", "warning"),
        *("--lifespan", "on" if lifespan else "off"),
    ]


class Server:
    """One server process, its output in ``log_path``."""

    def __init__(
        self, cmd: list[str], port: int, env: dict[str, str], log_path: Path, name: str = ""
    ) -> None:
        self.cmd = cmd
        self.port = port
        self.name = name or Path(cmd[2] if len(cmd) > 2 else cmd[0]).name
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float) -> float:
        """Seconds until the port accepts connections; raise if the server dies or is slow."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.output()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.05)  # polling interval, bounded by the deadline
        raise RuntimeError(f"{self.name} not listening after {timeout:.0f}s:\n{self.output()}")

    def status(self) -> dict[str, int]:
        """``VmRSS`` (kB) and ``Threads`` from ``/proc/<pid>/status``."""
        out: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
        return out

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return ticks / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_bytes().decode(errors="replace")

    def problems(self) -> list[str]:
        """Lines of the server's output that look like errors or warnings."""
        data = self.log_path.read_bytes() if self.log_path.exists() else b""
        lines = data.splitlines()
        return [ln.decode(errors="replace") for ln in lines if PROBLEM.search(ln)]

    def stop(self, timeout: float = 10.0) -> float:
        """Terminate, then kill after ``timeout`` s; seconds it took. Always close the log."""
        started = time.monotonic()
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            self._log.close()
        return time.monotonic() - started
