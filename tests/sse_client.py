"""A test client for the real servers: log in, publish, and read event streams.

Events are parsed by httpx-sse's decoder (an implementation independent of our
encoder); comments, which it drops, are recorded separately.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse._decoders import SSEDecoder

_LINE = re.compile(rb"\r\n|\r|\n")


@dataclass
class Received:
    event: str
    data: str
    id: str


class EventReader:
    """Reads one open stream: events, comments, and the raw bytes seen."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.raw = b""
        self.comments: list[str] = []
        self.last_id = ""
        self.retry: int | None = None
        self.closed = False
        self._chunks = response.aiter_raw()
        self._buffer = b""
        self._decoder = SSEDecoder()
        self._has_data = False
        self._ready: list[Received] = []

    async def _feed(self) -> None:
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            self.closed = True
            return
        self.raw += chunk
        self._buffer += chunk
        *lines, self._buffer = _LINE.split(self._buffer)
        for raw_line in lines:
            self._line(raw_line.decode())

    def _line(self, line: str) -> None:
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
        self._has_data = self._has_data or line.partition(":")[0] == "data"
        sse = self._decoder.decode(line)
        if sse is None:
            return
        self.retry = sse.retry if sse.retry is not None else self.retry
        self.last_id = sse.id
        if self._has_data:
            self._ready.append(Received(sse.event, sse.data, sse.id))
        self._has_data = False

    async def until(self, condition: Any, timeout: float = 10.0) -> None:
        """Read until ``condition(self)`` holds or the stream closes."""
        async with asyncio.timeout(timeout):
            while not condition(self) and not self.closed:
                await self._feed()

    async def events(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Exactly the next ``count`` events (fails on timeout or close)."""
        await self.until(lambda r: len(r._ready) >= count, timeout)
        if len(self._ready) < count:
            raise AssertionError(f"stream closed after {len(self._ready)} of {count} events")
        taken, self._ready = self._ready[:count], self._ready[count:]
        return taken

    async def events_until(self, match: Any, timeout: float = 10.0) -> list[Received]:
        """Every event up to and including the first that ``match(event)`` accepts."""
        await self.until(lambda r: any(match(e) for e in r._ready), timeout)
        found = next((i for i, e in enumerate(self._ready) if match(e)), None)
        if found is None:
            raise AssertionError(f"stream closed before a matching event: {self._ready}")
        taken, self._ready = self._ready[: found + 1], self._ready[found + 1 :]
        return taken

    async def read_to_end(self, timeout: float = 10.0) -> list[Received]:
        await self.until(lambda r: False, timeout)
        taken, self._ready = self._ready, []
        return taken


class Client:
    """One browser-like client of a test server (cookies kept across requests)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(30.0))

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def login(self, username: str) -> int:
        response = await self.http.get(f"/test/login/{username}/")
        response.raise_for_status()
        return int(response.json()["pk"])

    async def publish(self, *specs: dict[str, Any]) -> list[int | None]:
        response = await self.http.post("/test/publish/", json=list(specs))
        response.raise_for_status()
        return list(response.json()["seqs"])

    async def hub(self) -> dict[str, int]:
        response = await self.http.get("/test/hub/")
        response.raise_for_status()
        return dict(response.json())

    async def wait_hub(self, timeout: float = 10.0, **expected: int) -> dict[str, int]:
        """Poll the hub's counters until they include ``expected``."""
        async with asyncio.timeout(timeout):
            while True:
                stats = await self.hub()
                if all(stats.get(k, 0) == v for k, v in expected.items()):
                    return stats
                await asyncio.sleep(0.02)

    def stream(
        self, params: dict[str, Any] | None = None, last_event_id: str | None = None
    ) -> AbstractAsyncContextManager[EventReader]:
        headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
        return self.open("GET", "/events/", params, headers)

    @asynccontextmanager
    async def open(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[EventReader]:
        """Any request whose answer is read as an event stream."""
        headers = {"Accept": "text/event-stream", **(headers or {})}
        request = self.http.build_request(method, path, params=params, headers=headers)
        response = await self.http.send(request, stream=True)
        try:
            yield EventReader(response)
        finally:
            await response.aclose()

    async def csrf_headers(self) -> dict[str, str]:
        response = await self.http.get("/test/progress/csrf/")
        return {"X-CSRFToken": response.json()["token"]}


def broadcast(data: Any, **spec: Any) -> dict[str, Any]:
    return {"kind": "broadcast", "data": data, **spec}


def to_user(pk: int, data: Any, **spec: Any) -> dict[str, Any]:
    return {"kind": "user", "target": pk, "data": data, **spec}


def to_topic(name: str, data: Any, **spec: Any) -> dict[str, Any]:
    return {"kind": "topic", "target": name, "data": data, **spec}
