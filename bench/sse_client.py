"""A deliberately cheap SSE client on raw asyncio sockets, for thousands of streams.

It reads bytes, splits them into ``\\n\\n``-terminated blocks, and looks only for
the event names the bench publishes and the ``"t":`` publish time in their data.
HTTP chunked framing is not decoded: each chunk daphne writes holds whole blocks,
so the framing lines only ever prefix a block and never hide one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

BENCH = b"event: bench"
WARMUP = b"event: warmup"
T_KEY = b'"t":'
READ_SIZE = 65536


class Tally:
    """What all subscribers received, shared (one event loop, no locks)."""

    def __init__(self) -> None:
        self.expected = 0  # bench deliveries that make the run complete
        self.deliveries = 0
        self.received: list[tuple[float, float]] = []  # (publish time, receive time)
        self.last_delivery = 0.0
        self.complete = asyncio.Event()
        self.warm = 0  # subscribers that have seen a warm-up event
        self.all_warm = asyncio.Event()
        self.subscribers = 0
        self.closed = 0  # streams the server ended

    def reset(self, expected: int) -> None:
        self.expected = expected
        self.deliveries = 0
        self.received = []
        self.last_delivery = 0.0
        self.complete.clear()


class Subscriber:
    __slots__ = ("tally", "reader", "writer", "connect_time", "bench", "warm", "task")

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connect_time = 0.0
        self.bench = 0  # bench events received
        self.warm = False
        self.task: asyncio.Task[None] | None = None

    async def open(self, host: str, port: int, path: str) -> None:
        """Connect and wait for the first chunk (the ``retry:`` block)."""
        started = time.perf_counter()
        self.reader, self.writer = await asyncio.open_connection(host, port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        )
        self.writer.write(request.encode())
        buf = b""
        while b"\r\n\r\n" not in buf or b"retry:" not in buf:
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise ConnectionError(f"closed before the first chunk: {buf[:200]!r}")
            buf += data
        head, _, body = buf.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if not status.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(f"unexpected response: {status!r}")
        self.connect_time = time.perf_counter() - started
        self.tally.subscribers += 1
        self.task = asyncio.get_running_loop().create_task(self._read(body))

    async def _read(self, pending: bytes) -> None:
        assert self.reader is not None
        tally = self.tally
        while True:
            end = pending.rfind(b"\n\n")
            if end >= 0:
                self._blocks(pending[:end], time.time())
                pending = pending[end + 2 :]
            data = await self.reader.read(READ_SIZE)
            if not data:
                tally.closed += 1
                return
            pending += data

    def _blocks(self, chunk: bytes, received: float) -> None:
        tally = self.tally
        if not self.warm and WARMUP in chunk:
            self.warm = True
            tally.warm += 1
            if tally.warm >= tally.subscribers:
                tally.all_warm.set()
        if BENCH not in chunk:
            return
        for block in chunk.split(b"\n\n"):
            if BENCH not in block:
                continue
            start = block.find(T_KEY) + len(T_KEY)
            end = block.find(b",", start)
            tally.received.append((float(block[start:end]), received))
            self.bench += 1
            tally.deliveries += 1
        tally.last_delivery = received
        if tally.deliveries >= tally.expected:
            tally.complete.set()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()


async def request(
    host: str, port: int, method: str, path: str, payload: Any = None
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on its own connection; the status and the raw body."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        body = b"" if payload is None else json.dumps(payload).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        response = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    parts = status_line.split(b" ", 2)
    status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    return status, rest.partition(b"\r\n\r\n")[2]


async def get_json(host: str, port: int, path: str) -> dict[str, Any]:
    status, body = await request(host, port, "GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}: {body[:200]!r}")
    value: dict[str, Any] = json.loads(body)
    return value
