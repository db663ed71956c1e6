"""Redis servers of a test's own: a lone one it may kill and restart, and a Sentinel
group (a primary, a replica, three sentinels) whose primary it may kill for a failover."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from tests.services import free_port, port_open, wait_until

MASTER_NAME = "django-sse"  # the name the sentinels monitor the primary under


def redis_server_installed() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    """A Redis of the test's own, on a free port, that it may kill and restart."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.args = list(args)  # e.g. "--replicaof", host, port
        self.process: subprocess.Popen[bytes] | None = None
        self.dir = tempfile.mkdtemp(prefix="django-sse-redis-")  # a replica's full sync writes

    def start(self) -> RedisServer:
        Path(self.dir).mkdir(exist_ok=True)  # a restart after kill() removed it
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", self.dir, *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port))
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)


class SentinelGroup:
    """A primary, its replica and three sentinels (quorum 2), as production runs Redis
    without a single point of failure. ``fail_over()`` kills the primary with SIGKILL
    (what it had not yet replicated is lost, as in a real crash) and waits until the
    sentinels have promoted the replica; the old primary then comes back as a replica."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.primary = RedisServer()
        self.replica = RedisServer("--replicaof", "127.0.0.1", str(self.primary.port))
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen[bytes]] = []

    def layer(self, prefix: str) -> str:
        """The test servers' ``SSE_TEST_LAYER`` for channels-redis through these sentinels."""
        return f"redis:{prefix}@sentinel=" + ",".join(map(str, self.sentinel_ports))

    def start(self) -> SentinelGroup:
        self.primary.start()
        self.replica.start()
        wait_until(lambda: self._info(self.replica).get("master_link_status") == "up")
        for port in self.sentinel_ports:
            config = self.workdir / f"sentinel-{port}.conf"  # a sentinel rewrites its file
            config.write_text(
                f"port {port}\nbind 127.0.0.1\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 500\n"
                f"sentinel failover-timeout {MASTER_NAME} 5000\n"
            )
            command = ["redis-server", str(config), "--sentinel"]
            self.sentinels.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=self.workdir)
            )
        # A failover needs two sentinels that know of each other and of the replica.
        wait_until(self._ready, timeout=30, interval=0.2)
        return self

    def _sentinel(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def _ready(self) -> bool:
        try:
            states: list[Any] = [
                self._sentinel(p).sentinel_master(MASTER_NAME) for p in self.sentinel_ports
            ]
        except redis.RedisError:
            return False
        return all(s["num-other-sentinels"] == 2 and s["num-slaves"] == 1 for s in states)

    @staticmethod
    def _info(server: RedisServer) -> dict[str, Any]:
        try:
            info: dict[str, Any] = server.client().info("replication")
        except redis.RedisError:
            return {}
        return info

    def master_port(self) -> int | None:
        sentinel = self._sentinel(self.sentinel_ports[0])
        try:
            address: Any = sentinel.sentinel_get_master_addr_by_name(MASTER_NAME)
        except redis.RedisError:
            return None
        return int(address[1]) if address else None

    def fail_over(self) -> float:
        """Kill the primary; return the seconds until a sentinel names the replica."""
        old, new = self.primary, self.replica
        started = time.monotonic()
        old.kill()
        wait_until(lambda: self.master_port() == new.port, timeout=30, interval=0.05)
        promoted = time.monotonic() - started
        self.primary, self.replica = new, old
        old.args = ["--replicaof", "127.0.0.1", str(new.port)]
        old.start()  # back as the new primary's replica
        return promoted

    def stop(self) -> None:
        for process in self.sentinels:
            process.kill()
            process.wait(10)
        self.primary.kill()
        self.replica.kill()
