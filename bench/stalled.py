"""Server memory with one subscriber that stopped reading, over a minute of broadcasts.

    .venv/bin/python bench/stalled.py [--seconds 60] [--rate 50] [--size 4000]

For daphne and uvicorn: one stalled subscriber (a 4 KB receive buffer, never read)
and ten that read, while the server broadcasts ``rate`` events of ``size`` bytes per
second; prints the server's RSS every 10 s and whether the stalled one was dropped.
Uses the end-to-end tests' server harness (SQLite + the in-memory layer).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.services import Backend, Server  # noqa: E402
from tests.sse_client import Client, broadcast  # noqa: E402


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:")))
    return kb / 1024


async def stalled(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(
        sock, b"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    return sock


async def reader(client: Client, counts: list[int]) -> None:
    async with client.stream() as stream:
        while True:
            counts.append(len(await stream.events(1, timeout=3600)))


async def measure(kind: str, backend: Backend, seconds: float, rate: int, size: int) -> None:
    server = Server(backend, kind, SSE_MAX_EVENTS_PER_STREAM=100000).start()
    try:
        async with Client(server.url) as client:
            sock = await stalled(server.port)
            counts: list[int] = []
            readers = [asyncio.create_task(reader(client, counts)) for _ in range(10)]
            await client.wait_hub(subscriptions=11, timeout=30)
            start, sent, samples = time.monotonic(), 0, [(0, rss_mb(server.pid))]
            while (elapsed := time.monotonic() - start) < seconds:
                await client.publish(*[broadcast("x" * size) for _ in range(rate // 10)])
                sent += rate // 10
                if int(elapsed) // 10 > len(samples) - 1:
                    samples.append((int(elapsed), rss_mb(server.pid)))
                await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
            samples.append((int(seconds), rss_mb(server.pid)))
            subs = (await client.hub())["subscriptions"]
            for task in readers:
                task.cancel()
            sock.close()
        series = "  ".join(f"{t:>3} s {mb:6.1f} MB" for t, mb in samples)
        print(f"{kind:8} {sent} events x {size} B: {series}")
        print(f"{'':8} stalled subscriber dropped: {subs == 10}; readers got {len(counts)} events")
    finally:
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--size", type=int, default=4000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        backend = Backend(f"sqlite:{Path(folder) / 'db.sqlite3'}")
        backend.manage("migrate", "--noinput")
        for kind in ("daphne", "uvicorn"):
            await measure(kind, backend, args.seconds, args.rate, args.size)


if __name__ == "__main__":
    asyncio.run(main())
