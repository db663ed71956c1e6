"""One-off event streams: ``EventStreamResponse`` answers a request with the events
an async iterable yields (typically a POST that reports progress).

It sends the first chunk at once, a comment heartbeat while the work is silent, an
``error`` event (with a message safe to show) if the work raises, and always a
terminal ``done`` event, unless the client went away: then the work is cancelled at
its current ``await``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponseBase, StreamingHttpResponse

from django_sse.conf import conf
from django_sse.typing import Send
from django_sse.wire import HEARTBEAT, encode_comment, encode_data, encode_event, encode_retry

logger = logging.getLogger("django_sse.http")

CONTENT_TYPE = "text/event-stream"
DONE_EVENT = "done"  # the terminal event: {"status": "succeeded" | "failed"}
ERROR_EVENT = "error"
GENERIC_ERROR = "The operation failed."


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event: ``data`` is a str (sent as is) or JSON-encodable."""

    data: object = ""
    event: str = "message"
    id: str | None = None

    def encode(self) -> bytes:
        return encode_event(encode_data(self.data), self.event, self.id)


class EventStreamError(Exception):
    """Raise it from the work to show its message to the user (others stay generic)."""


def _encode(item: object) -> bytes:
    if isinstance(item, ServerSentEvent):
        return item.encode()
    return encode_event(encode_data(item))


def no_buffering(response: HttpResponseBase) -> None:
    """The headers every event stream carries: no cache, no proxy buffering."""
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"


# Django's public ``streaming_content`` property, which StreamResponse extends.
_STREAMING_CONTENT: property = vars(StreamingHttpResponse)["streaming_content"]


class StreamResponse(StreamingHttpResponse):
    """The stream endpoint's response; ``events`` is its body as the view made it.

    ``events`` becomes None when a middleware replaces the body (``GZipMiddleware``
    sets ``streaming_content``): a server then sends the body Django's way. ``direct``,
    if given, may be called with the ASGI ``send`` once the head is out, so that the
    body's producer may also write through it (only a server that sends ``events``
    itself does: Django's own path wraps every chunk).
    """

    def __init__(
        self,
        events: AsyncGenerator[bytes],
        direct: Callable[[Send], None] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("content_type", CONTENT_TYPE)
        super().__init__(events, **kwargs)
        self.events: AsyncGenerator[bytes] | None = events
        self.direct = direct

    @property
    def streaming_content(self) -> Any:
        return _STREAMING_CONTENT.__get__(self)

    @streaming_content.setter
    def streaming_content(self, value: Any) -> None:
        self.events = None
        _STREAMING_CONTENT.__set__(self, value)


class EventStreamResponse(StreamingHttpResponse):
    """A ``text/event-stream`` response over an async iterable of events or data."""

    def __init__(
        self, events: AsyncIterable[Any], *, heartbeat: float | None = None, **kwargs: Any
    ) -> None:
        if not hasattr(events, "__aiter__"):
            raise TypeError(
                "EventStreamResponse needs an async iterable (an `async def` generator): "
                "under ASGI a sync iterator is read to the end before anything is sent"
            )
        interval = conf.SSE_HEARTBEAT_INTERVAL if heartbeat is None else heartbeat
        kwargs.setdefault("content_type", CONTENT_TYPE)
        super().__init__(_stream(aiter(events), interval), **kwargs)
        no_buffering(self)


async def _stream(events: AsyncIterator[Any], heartbeat: float) -> AsyncIterator[bytes]:
    yield encode_retry(conf.SSE_RETRY) + encode_comment("started")
    status = "succeeded"
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            pending = asyncio.ensure_future(anext(events))
            while not (await asyncio.wait([pending], timeout=heartbeat))[0]:
                yield HEARTBEAT
            try:
                item = pending.result()
            except StopAsyncIteration:
                break
            yield _encode(item)
    except Exception as exc:
        status = "failed"
        yield _error(exc)
    finally:
        await _stop(pending, events)
    yield encode_event(json.dumps({"status": status}), DONE_EVENT)


async def _stop(pending: asyncio.Future[Any] | None, events: AsyncIterator[Any]) -> None:
    """Stop the work where it waits (the client went away) and let its cleanup finish."""
    if pending is not None and not pending.done():
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


def _error(exc: Exception) -> bytes:
    if isinstance(exc, EventStreamError):
        message = str(exc)
    else:
        logger.error("event stream failed", exc_info=exc)
        message = GENERIC_ERROR
    return encode_event(json.dumps({"message": message}), ERROR_EVENT)
