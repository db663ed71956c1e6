"""A bound on what daphne buffers for a client that stopped reading.

daphne writes every response body chunk into Twisted's transport buffer at once,
with no backpressure: a subscriber that stops reading makes the process's memory
grow with every event. Past ``SSE_MAX_BUFFERED_BYTES`` for one connection we abort
that connection; daphne then sends the application ``http.disconnect``, the stream
ends and leaves the hub, and the browser (if it is alive) reconnects with its
cursor and catches up from the log. uvicorn needs none of this: it pauses the
writer, and ``SSE_SEND_TIMEOUT`` covers it.
"""

from __future__ import annotations

import logging
from typing import Any

from django_sse.conf import conf

logger = logging.getLogger("django_sse.server.backpressure")


def buffered_bytes(transport: Any) -> int:
    """Bytes a Twisted transport holds, not yet accepted by the kernel."""
    pending = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return pending + int(getattr(transport, "_tempDataLen", 0))


_write_through_off = False  # set once write-through met a surprise in this process


def _write_through(request: Any, message: dict[str, Any]) -> bool:
    """Write the chunk now if we can; on any surprise, daphne's own writes from then on.

    Write-through reads Twisted attributes that are not public; a release that renames
    one must cost speed, never a response. It fails, if it does, before sending a byte.
    """
    global _write_through_off
    if _write_through_off:
        return False
    try:
        from django_sse.server.writethrough import write_body_now

        return write_body_now(request, message)
    except Exception as exc:
        _write_through_off = True
        logger.warning(
            "daphne write-through is off for this process (%r): a Twisted or daphne of "
            "another shape; every response takes daphne's own writes",
            exc,
        )
        return False


def bound_daphne_buffers() -> bool:
    """Patch daphne's request to abort connections over the limit (once; idempotent).

    The same wrapper sends body chunks straight to the socket when it can
    (:mod:`django_sse.server.writethrough`); what the socket does not take is what counts.
    """
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return False
    if getattr(WebRequest.handle_reply, "_django_sse_bounded", False):
        return True
    original = WebRequest.handle_reply

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if not _write_through(self, message):
            original(self, message)
        transport = getattr(getattr(self, "channel", None), "transport", None)
        if message.get("type") != "http.response.body" or transport is None:
            return
        pending = buffered_bytes(transport)
        if pending > conf.SSE_MAX_BUFFERED_BYTES:
            logger.warning(
                "closed %s: %d bytes unread by the client",
                getattr(self, "client_addr", "?"),
                pending,
            )
            transport.abortConnection()

    handle_reply._django_sse_bounded = True  # type: ignore[attr-defined]
    WebRequest.handle_reply = handle_reply
    return True
