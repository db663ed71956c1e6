"""A subscriber that stops reading: bounded server memory, no delay for the others."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, Server
from tests.sse_client import Client, broadcast

EVENTS = 600
PAYLOAD = "x" * 16_000  # 600 events of 16 KB: 9.6 MB for each subscriber


def rss_kb(server: Server) -> int:
    status = Path(f"/proc/{server.pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:")))


async def stalled_subscriber(port: int) -> socket.socket:
    """A client that sends its request, reads the first bytes, then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, b"GET /events/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await loop.sock_recv(sock, 64)).startswith(b"HTTP/1.1 200")
    return sock


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_stalled_subscriber_is_dropped_and_others_get_everything(
    kind: str, sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(
        sqlite_backend,
        kind,
        SSE_FAST_PATH=True,  # daphne's bound is an acceleration (off: daphne buffers on)
        SSE_MAX_BUFFERED_BYTES=262144,
        SSE_SEND_TIMEOUT=2.0,
        SSE_MAX_PENDING=50,
        SSE_MAX_EVENTS_PER_STREAM=5000,
    )
    async with Client(server.url) as client, client.stream() as healthy:
        stalled = await stalled_subscriber(server.port)
        await client.wait_hub(subscriptions=2)
        before = rss_kb(server)
        reading = asyncio.create_task(healthy.events(EVENTS, timeout=120))
        for start in range(0, EVENTS, 50):
            await client.publish(*[broadcast(f"{i}:{PAYLOAD}") for i in range(start, start + 50)])
        received = await reading
        # The stalled one was dropped (deadlines are generous: CI machines are shared).
        await client.wait_hub(subscriptions=1, timeout=120)
        growth = rss_kb(server) - before
        stalled.close()
    assert [int(e.data.partition(":")[0]) for e in received] == list(range(EVENTS))
    assert growth < 40_000, f"server RSS grew {growth} KB"
    print(f"\n{kind}: RSS growth with a stalled subscriber: {growth} KB")
