"""A deliberately cheap SSE client on raw asyncio sockets, for thousands of streams.

One ``asyncio.Protocol`` per stream, no task, no ``StreamReader``. It reads
bytes and looks only for ``"t":`` (a measured event, followed by its publish
time) and ``"warm":`` (a warm-up event) in complete blocks: the text up to the
last blank line (``\\n\\n`` or ``\\r\\n\\r\\n``). HTTP chunked framing is not
decoded: servers write whole blocks per chunk, so framing lines sit between
blocks and never hide a key. One subscriber may also keep the last ``id:``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

T_KEY = b'"t":'
WARM_KEY = b'"warm":'
ID_KEY = b"id: "


class Tally:
    """What all subscribers received, shared (one event loop, no locks)."""

    def __init__(self) -> None:
        self.waiting = 0  # subscribers still short of this phase's events
        self.deliveries = 0
        self.received: list[tuple[float, float]] = []  # (publish time, receive time)
        self.last_delivery = 0.0
        self.complete = asyncio.Event()
        self.warm = 0  # subscribers that have seen a warm-up event
        self.all_warm = asyncio.Event()
        self.subscribers = 0
        self.closed = 0  # streams the server ended
        self.reads = 0  # data_received calls while open (heartbeats count here)

    def reset(self, subs: list[Subscriber], events: int) -> None:
        """A new phase: complete when each of ``subs`` has ``events`` more (duplicates aside)."""
        self.deliveries = 0
        self.received = []
        self.last_delivery = 0.0
        self.complete.clear()
        self.waiting = len(subs) if events > 0 else 0
        for sub in subs:
            sub.need = events
        if not self.waiting:
            self.complete.set()


class Subscriber(asyncio.Protocol):
    """One ``GET`` stream; ``await open(...)`` returns once its first body bytes came."""

    def __init__(self, tally: Tally, *, keep_id: bool = False) -> None:
        self.tally = tally
        self.keep_id = keep_id
        self.last_id = ""
        self.count = 0  # measured events received
        self.need = 0  # measured events this phase still waits for
        self.warm = False
        self.connect_time = 0.0
        self.transport: asyncio.Transport | None = None
        self._opened: asyncio.Future[None] | None = None
        self._head = b""  # until the response headers are complete
        self._pending = b""  # after the last complete block
        self._live = False

    async def open(self, host: str, port: int, path: str, last_event_id: str = "") -> None:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        self._opened = loop.create_future()
        await loop.create_connection(lambda: self, host, port)
        assert self.transport is not None
        cursor = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id else ""
        self.transport.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"Cache-Control: no-cache\r\n{cursor}\r\n".encode()
        )
        await self._opened
        self.connect_time = time.perf_counter() - started

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._live:
            self._live = False
            self.tally.closed += 1
        self._fail(ConnectionError(f"closed before the first chunk: {self._head[:200]!r}"))

    def _fail(self, exc: Exception) -> None:
        if self._opened is not None and not self._opened.done():
            self._opened.set_exception(exc)

    def data_received(self, data: bytes) -> None:
        if self._live:
            self.tally.reads += 1
            self._scan(data)
            return
        self._head += data
        head, sep, body = self._head.partition(b"\r\n\r\n")
        if not sep or not body:
            return  # headers alone are not an open stream: wait for the first chunk
        if not head.startswith(b"HTTP/1.1 200"):
            self._fail(ConnectionError(f"unexpected response: {head[:200]!r}"))
            if self.transport is not None:
                self.transport.close()
            return
        self._head = b""
        self._live = True
        self.tally.subscribers += 1
        if self._opened is not None and not self._opened.done():
            self._opened.set_result(None)
        self._scan(body)

    def _scan(self, data: bytes) -> None:
        buf = self._pending + data
        end = max(buf.rfind(b"\n\n"), buf.rfind(b"\n\r\n"))
        if end < 0:
            self._pending = buf
            return
        end = buf.index(b"\n", end + 1) + 1  # past the blank line
        block, self._pending = buf[:end], buf[end:]
        tally = self.tally
        if not self.warm and WARM_KEY in block:
            self.warm = True
            tally.warm += 1
            if tally.warm >= tally.subscribers:
                tally.all_warm.set()
        if self.keep_id and (at := block.rfind(ID_KEY)) >= 0:
            self.last_id = block[at + len(ID_KEY) : block.index(b"\n", at)].strip().decode()
        if T_KEY not in block:
            return
        now = time.time()
        at = block.find(T_KEY)
        while at >= 0:
            start = at + len(T_KEY)
            stop = block.find(b",", start)
            tally.received.append((float(block[start:stop]), now))
            self.count += 1
            tally.deliveries += 1
            if self.need > 0:
                self.need -= 1
                if not self.need:
                    tally.waiting -= 1
                    if not tally.waiting:
                        tally.complete.set()
            at = block.find(T_KEY, stop)
        tally.last_delivery = now

    @property
    def live(self) -> bool:
        return self._live

    def close(self) -> None:
        self._live = False
        if self.transport is not None:
            self.transport.abort()


async def request(
    host: str, port: int, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on its own connection; the status and the raw body."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
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
