"""A cheap raw-socket subscriber that checks every event's place in its streams.

Each event's ``id`` is decoded (django_sse.cursor is pure) to find which stream it
advanced: exactly one stream by exactly one, or it is a gap or a duplicate.

A ``raw`` subscriber holds no cursor of its own, as a plain ``EventSource`` or an
httpx-sse client: it connects first without one, keeps the last ``id:`` the stream
gave (an id-only block too) and reconnects with whatever that is. Where it starts
is what its first stream's first chunk says.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django_sse.cursor import Cursor, decode


@dataclass
class Subscriber:
    cookie: str
    topic: str
    streams: list[str]
    positions: dict[str, int]
    received: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    deliveries: list[tuple[float, float]] = field(default_factory=list)  # (published, received)
    reconnect_times: list[float] = field(default_factory=list)
    writer: asyncio.StreamWriter | None = None
    raw: bool = False  # no cursor of its own: only what the stream gave it
    last_id: str = ""  # the last id the stream gave (what a raw client sends back)
    port: int = 0  # the server it reads from now
    opened: Counter[int] = field(default_factory=Counter)  # 200 responses, by port
    events_from: Counter[int] = field(default_factory=Counter)  # events received, by port

    def __post_init__(self) -> None:
        self.start = dict(self.positions)  # where it began: it must see all after this

    @property
    def cursor(self) -> str:
        if self.raw:
            return self.last_id
        return Cursor(self.streams, self.positions).encode()

    def caught_up(self, heads: dict[str, int] | None) -> bool:
        if heads is None or not self.positions:  # a raw one that has had no first chunk yet
            return False
        return all(self.positions[s] >= heads[s] for s in self.streams)

    def on_event(self, event_id: str, event: str, data: str) -> None:
        if event == "sse:reset":
            self.violations.append(f"reset {data}")
            return
        if not self.positions:  # a raw one that was given no cursor before this event
            self.violations.append(f"an event before any cursor: {event_id}")
            return
        positions = decode(event_id, self.streams)
        moved = [s for s in self.streams if positions[s] != self.positions[s]]
        if len(moved) != 1 or positions[moved[0]] != self.positions[moved[0]] + 1:
            self.violations.append(f"{self.positions} -> {positions}")
            return
        stream = moved[0]
        self.positions = positions
        self.received.setdefault(stream, []).append((positions[stream], data))
        self.events_from[self.port] += 1
        published, received = float(json.loads(data)["t"]), time.time()
        self.latencies.append(received - published)
        self.deliveries.append((published, received))

    def recovered_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` until it got an event published after it."""
        later = [received for published, received in self.deliveries if published > moment]
        return min(later) - moment if later else None

    async def follow(
        self, ports: list[int], heads: list[dict[str, int]], rng: random.Random
    ) -> int:
        """Read (reconnecting to any port) until caught up with ``heads[0]``; count connects."""
        connects = 0
        dropped_at = time.monotonic()
        while not self.caught_up(heads[0] if heads else None):
            try:
                self.port = rng.choice(ports)
                reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            connects += 1
            try:
                await self._session(reader, heads, dropped_at)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                pass
            finally:
                self.writer.close()
                self.writer = None
                dropped_at = time.monotonic()
        return connects

    async def _session(
        self, reader: asyncio.StreamReader, heads: list[dict[str, int]], dropped_at: float
    ) -> None:
        assert self.writer is not None
        cursor = f"Last-Event-ID: {self.cursor}\r\n" if self.cursor else ""
        request = (
            f"GET /events/?topic={self.topic} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Cookie: {self.cookie}\r\n{cursor}\r\n"
        )
        self.writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ValueError(head[:100])
        self.opened[self.port] += 1
        chunked = b"transfer-encoding: chunked" in head.lower()
        body = _Body(chunked)
        first = True
        while not self.caught_up(heads[0] if heads else None):
            data = await reader.read(65536)
            if not data:
                return
            for block in body.blocks(data):
                if first:
                    self.reconnect_times.append(time.monotonic() - dropped_at)
                    first = False
                self._block(block)

    def _block(self, block: bytes) -> None:
        fields: dict[str, list[str]] = {}
        for line in block.decode().split("\n"):
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        if "data" in fields:
            self.on_event(
                fields["id"][0], fields.get("event", ["message"])[0], "\n".join(fields["data"])
            )
        elif "id" in fields:
            self._cursor_block(fields["id"][0])
        if "id" in fields:
            self.last_id = fields["id"][0]

    def _cursor_block(self, event_id: str) -> None:
        """An id with no data: where the stream stands, before any event."""
        positions = decode(event_id, self.streams)
        if self.raw and not self.last_id:  # its very first cursor: it starts here
            self.positions, self.start = dict(positions), dict(positions)
        elif positions != self.positions:
            self.violations.append(f"cursor block {self.positions} -> {positions}")


class _Body:
    """Undo chunked transfer coding if present, then split into SSE blocks."""

    def __init__(self, chunked: bool) -> None:
        self.chunked = chunked
        self.raw = b""
        self.text = b""

    def blocks(self, data: bytes) -> list[bytes]:
        if self.chunked:
            self.raw += data
            while (end := self.raw.find(b"\r\n")) >= 0:
                size = int(self.raw[:end], 16)
                if len(self.raw) < end + 2 + size + 2:
                    break
                self.text += self.raw[end + 2 : end + 2 + size]
                self.raw = self.raw[end + 4 + size :]
        else:
            self.text += data
        *complete, self.text = self.text.split(b"\n\n")
        return [b for b in complete if b]
