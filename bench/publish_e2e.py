"""The bulk publish, end to end: N users on two daphne processes, one call, each once.

Each user logs in with a signed-cookie session minted here, opens its stream
on one of two daphne processes (PostgreSQL + channels-redis), and counts the
events it receives. A worker process calls ``send_to_users`` for all of them;
every stream must get its event exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.server import ROOT, Server, daphne_cmd, free_port
from bench.sse_client import get_json

MARK = b'"bulk":'
CONNECT_BATCH = 500  # streams opened at once
DELIVERY_DEADLINE = 60.0  # seconds for every stream to receive its event
SETTLE = 1.0  # seconds to wait after the last expected event, for duplicates


class UserStream(asyncio.Protocol):
    def __init__(self) -> None:
        self.count = 0
        self.at = 0.0
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = b""

    def data_received(self, data: bytes) -> None:
        if not self.opened.done():
            if not data.startswith(b"HTTP/1.1 200"):
                self.opened.set_exception(ConnectionError(data[:200].decode(errors="replace")))
                return
            self.opened.set_result(None)
        buf = self._tail + data
        found = buf.count(MARK)
        if found:
            self.count += found
            self.at = time.time()
        self._tail = buf[-len(MARK) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed before the stream opened"))


async def open_stream(port: int, cookie: str) -> UserStream:
    loop = asyncio.get_running_loop()
    transport, stream = await loop.create_connection(UserStream, "127.0.0.1", port)
    transport.write(
        f"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        f"Cookie: sessionid={cookie}\r\n\r\n".encode()
    )
    await asyncio.wait_for(stream.opened, 60)
    return stream


def cookies(env: dict[str, str], n: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.publish_e2e", "cookies", str(n)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    values: list[str] = json.loads(done.stdout)
    return values


def mint_cookies(n: int) -> list[str]:
    """Signed-cookie sessions of the first ``n`` users (run with the bench's settings)."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    out = []
    for user in User.objects.order_by("pk")[:n]:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        assert session.session_key is not None
        out.append(session.session_key)
    return out


async def _run(env: dict[str, str], n: int, ports: list[int]) -> str:
    keys = cookies(env, n)
    streams: list[UserStream] = []
    for start in range(0, n, CONNECT_BATCH):
        batch = keys[start : start + CONNECT_BATCH]
        streams += await asyncio.gather(
            *(open_stream(ports[(start + i) % 2], key) for i, key in enumerate(batch))
        )
    for port in ports:
        while (await get_json("127.0.0.1", port, "/bench/stats/"))["subscriptions"] < n // 2:
            await asyncio.sleep(0.2)
    began = time.time()
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bench.publish_worker", "bulk", str(n), "--tag", "e2e"),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await worker.communicate()
    call = json.loads(out.decode().strip().splitlines()[-1])["seconds"]
    deadline = time.monotonic() + DELIVERY_DEADLINE
    while any(s.count == 0 for s in streams) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(SETTLE)
    missing = sum(1 for s in streams if s.count == 0)
    repeated = sum(1 for s in streams if s.count > 1)
    last = max(s.at for s in streams if s.count) - began
    return (
        f"end to end: {n:,} user streams on 2 daphne processes; send_to_users took "
        f"{call * 1000:.0f} ms (stored and rung); the last stream had its event "
        f"{last * 1000:.0f} ms after the call began; missing {missing}, repeated {repeated}"
    )


def check(env: dict[str, str], n: int, workdir: Path) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    servers = []
    try:
        for i in range(2):
            port = free_port()
            command = daphne_cmd("bench.asgi:application", port)
            servers.append(Server(command, port, env, workdir / f"e2e-{i}.log", "daphne"))
        for server in servers:
            server.wait_ready(60)
        return asyncio.run(_run(env, n, [s.port for s in servers]))
    finally:
        for server in servers:
            server.stop(10)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.publish_settings")
    print(json.dumps(mint_cookies(int(sys.argv[2]))))
