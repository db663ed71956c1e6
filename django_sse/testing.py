"""Helpers for your own tests: what was published, and what the endpoint sends.

- :func:`capture_events` records every event django-sse publishes, like
  ``django.core.mail.outbox`` records mail.
- :func:`open_stream` and :func:`read_events` drive the endpoint in-process
  through the ASGI handler and parse the ``text/event-stream`` it writes.

See docs/testing-toolkit.md.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.test import AsyncClient
from django.urls import reverse

from django_sse.asgi import PooledASGIHandler
from django_sse.signals import event_published
from django_sse.typing import ASGIApp

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class PublishedEvent:
    """One event as django-sse rang it: ``seq`` is None for an ephemeral event."""

    stream: str  # "user:<pk>", "broadcast" or "topic:<name>"
    event: str
    data: str  # the text a browser receives (line breaks as "\n")
    seq: int | None

    @property
    def persist(self) -> bool:
        return self.seq is not None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(frozen=True)
class ReceivedEvent:
    """One event as a browser's ``EventSource`` fires it.

    ``id`` is the stream's last event id when the event arrived, like
    ``MessageEvent.lastEventId``: an ephemeral event repeats the previous one.
    """

    event: str
    data: str
    id: str

    def json(self) -> Any:
        return json.loads(self.data)


class _Parser:
    """The WHATWG event stream interpretation, fed chunk by chunk.

    Chunks may be cut anywhere: inside a UTF-8 character, between CR and LF.
    """

    def __init__(self) -> None:
        self.last_id = ""  # the stream's last event ID string (what a reconnect sends)
        self.retry: int | None = None
        self.comments: list[str] = []
        self._buffer = b""  # the unfinished line
        self._started = False  # past the first bytes, where one BOM is dropped
        self._skip_lf = False  # the last line ended in CR: a next LF ends nothing
        self._event = ""
        self._data: list[str] = []
        self._id = ""  # the last event ID buffer: it counts once its block ends

    def feed(self, chunk: bytes) -> list[ReceivedEvent]:
        data = self._buffer + chunk
        if not self._started:
            if len(data) < 3 and b"\xef\xbb\xbf".startswith(data):
                self._buffer = data  # maybe the start of a byte order mark
                return []
            self._started = True
            data = data.removeprefix(b"\xef\xbb\xbf")
        if self._skip_lf and data:
            self._skip_lf = False
            data = data.removeprefix(b"\n")
        *lines, self._buffer = _LINE_END.split(data)
        if lines and data.endswith(b"\r"):
            self._skip_lf = True  # the line ended here; an LF next is its other half
        events = [self._line(line.decode(errors="replace")) for line in lines]
        return [event for event in events if event is not None]

    def end(self) -> None:
        """The stream has ended: an unfinished block is dropped, its id too."""
        self._buffer, self._data, self._event, self._id = b"", [], "", self.last_id

    def _line(self, line: str) -> ReceivedEvent | None:
        if not line:
            return self._dispatch()
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if not field:
            self.comments.append(value)
        elif field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> ReceivedEvent | None:
        self.last_id = self._id  # even for a block without data
        data, event = self._data, self._event or "message"
        self._data, self._event = [], ""
        return ReceivedEvent(event, "\n".join(data), self.last_id) if data else None


# Capturing what is published ----------------------------------------------------


@contextmanager
def capture_events() -> Iterator[list[PublishedEvent]]:
    """Record every event published while the block runs, in the order they ring.

    Events are recorded as they ring, which is when subscribers get them: a
    persistent event published inside ``atomic()`` when the transaction commits
    (never, if it rolls back). Recording does not stop delivery.
    """
    captured: list[PublishedEvent] = []

    def record(sender: Any, stream: str, seq: int | None, frame: bytes, **kwargs: Any) -> None:
        (received,) = _Parser().feed(frame)
        captured.append(PublishedEvent(stream, received.event, received.data, seq))

    event_published.connect(record, weak=False)
    try:
        yield captured
    finally:
        event_published.disconnect(record)


# Reading from the endpoint ------------------------------------------------------


class StreamRefused(Exception):
    """The endpoint answered something other than a stream (403, 400...)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"{status}: {body.decode(errors='replace')}")
        self.status = status
        self.body = body


class EventStream:
    """One open stream: its response, and the events it has sent so far."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.raw = b""
        self.closed = False
        self._parser = _Parser()
        self._pending: list[ReceivedEvent] = []
        self._changed = asyncio.Event()

    @property
    def is_event_stream(self) -> bool:
        content_type = self.headers.get("content-type", "")
        return self.status == 200 and content_type.startswith("text/event-stream")

    @property
    def retry(self) -> int | None:
        return self._parser.retry

    @property
    def comments(self) -> list[str]:
        return self._parser.comments

    @property
    def last_event_id(self) -> str:
        """What a browser would send as ``Last-Event-ID`` if it reconnected now."""
        return self._parser.last_id

    async def read(self, count: int, timeout: float = 5.0) -> list[ReceivedEvent]:
        """The next ``count`` events; ``AssertionError`` if they do not all come."""
        with suppress(TimeoutError):
            await self._until(lambda: len(self._pending) >= count, timeout)
        got, self._pending = self._pending[:count], self._pending[count:]
        if len(got) < count:
            why = "the stream ended" if self.closed else f"none more within {timeout} s"
            raise AssertionError(f"expected {count} events, got {len(got)} ({why}): {got!r}")
        return got

    async def _until(self, condition: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not condition() and not self.closed:
                self._changed.clear()
                await self._changed.wait()

    async def _send(self, message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.raw += chunk
            if self.status == 200:
                self._pending += self._parser.feed(chunk)
            if not message.get("more_body", False):
                self._end()
        self._changed.set()

    def _end(self) -> None:
        self.closed = True
        self._parser.end()
        self._changed.set()


async def _headers(user: Any, last_event_id: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", b"testserver"), (b"accept", b"text/event-stream")]
    if last_event_id is not None:
        headers.append((b"last-event-id", last_event_id.encode()))
    if user is not None and user.is_authenticated:
        client = AsyncClient()
        await client.aforce_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        headers.append((b"cookie", f"{cookie.key}={cookie.value}".encode()))
    return headers


def http_scope(
    path: str, topics: Iterable[str], headers: list[tuple[bytes, bytes]]
) -> dict[str, Any]:
    """The ASGI scope of a GET of ``path`` (with ``?topic=`` for each topic)."""
    path, _, query = path.partition("?")
    query = "&".join(q for q in (query, urlencode([("topic", t) for t in topics])) if q)
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def _receiver(disconnected: asyncio.Event) -> Callable[[], Awaitable[dict[str, Any]]]:
    request = {"type": "http.request", "body": b"", "more_body": False}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return request
        await disconnected.wait()  # the client stays until the test is done
        return {"type": "http.disconnect"}

    return receive


async def _stop(
    task: asyncio.Task[None], disconnected: asyncio.Event, timeout: float
) -> BaseException | None:
    """Disconnect like a browser that goes away; the application's error, if any."""
    disconnected.set()
    done, _ = await asyncio.wait([task], timeout=timeout)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return TimeoutError(f"the application did not end within {timeout} s of disconnecting")
    return None if task.cancelled() else task.exception()


async def _opened(stream: EventStream, timeout: float) -> None:
    """Wait for the first chunk of a stream, or for the whole of any other answer."""
    try:
        await stream._until(lambda: stream.raw != b"" and stream.is_event_stream, timeout)
    except TimeoutError:
        raise TimeoutError(f"the stream sent nothing within {timeout} s") from None
    if not stream.is_event_stream:
        raise StreamRefused(stream.status, stream.raw)


@asynccontextmanager
async def open_stream(
    path: str | None = None,
    *,
    user: Any = None,
    topics: Iterable[str] = (),
    last_event_id: str | None = None,
    application: ASGIApp | None = None,
    timeout: float = 5.0,
) -> AsyncIterator[EventStream]:
    """Connect to the endpoint (``django_sse:stream`` by default) as ``user``.

    Entering waits for the stream's first chunk: from then on the connection
    is live and sees every event published. A refusal raises
    :class:`StreamRefused`. Leaving disconnects and waits for the server side
    to clean up. ``application`` defaults to a fresh ``PooledASGIHandler``.
    """
    app = application or PooledASGIHandler()
    scope = http_scope(
        path or reverse("django_sse:stream"), topics, await _headers(user, last_event_id)
    )
    stream, disconnected = EventStream(), asyncio.Event()
    task = asyncio.create_task(app(scope, _receiver(disconnected), stream._send))
    task.add_done_callback(lambda _: stream._end())
    try:
        await _opened(stream, timeout)
        yield stream
    except BaseException:
        await _stop(task, disconnected, timeout)  # the first error is the one to report
        raise
    else:
        if (error := await _stop(task, disconnected, timeout)) is not None:
            raise error
    finally:
        if application is None and isinstance(app, PooledASGIHandler):
            for executor in app.executors:
                executor.shutdown(wait=False)


async def read_events(
    path: str | None = None,
    *,
    count: int,
    user: Any = None,
    topics: Iterable[str] = (),
    last_event_id: str | None = None,
    application: ASGIApp | None = None,
    timeout: float = 5.0,
) -> list[ReceivedEvent]:
    """Connect, read ``count`` events, disconnect.

    Events already in the log arrive only after a cursor (``last_event_id``);
    to see events published after connecting, use :func:`open_stream`.
    """
    async with open_stream(
        path,
        user=user,
        topics=topics,
        last_event_id=last_event_id,
        application=application,
        timeout=timeout,
    ) as stream:
        return await stream.read(count, timeout)
