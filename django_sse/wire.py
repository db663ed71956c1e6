"""The text/event-stream wire format: values in, bytes out.

Pure functions: no models, no settings, no I/O (only Django's JSON encoder, for
event data that is not a str). Each event is encoded once, as the
bytes every connection writes; a connection only prefixes its own ``id:`` line.
See the WHATWG "Server-sent events" section for the grammar.
"""

from __future__ import annotations

import json
import re

from django.core.serializers.json import DjangoJSONEncoder

_NEWLINES = re.compile(r"\r\n|\r|\n")
_BAD_EVENT_CHARS = re.compile(r"[\r\n\x00]")
_BAD_ID_CHARS = re.compile(r"[\r\n\x00]")

HEARTBEAT = b":\n\n"


def check_event_name(event: str) -> str:
    """Return ``event`` if it is a valid event name, else raise."""
    if not isinstance(event, str):
        raise TypeError(f"event name must be a str, not {type(event).__name__}")
    if not event:
        raise ValueError("event name must not be empty")
    if _BAD_EVENT_CHARS.search(event):
        raise ValueError(f"event name must not contain CR, LF or NUL: {event!r}")
    return event


def encode_event(data: str, event: str = "message", id: str | None = None) -> bytes:
    """Encode one event block; ``data`` may hold any newlines (CR, LF, CRLF)."""
    parts = []
    if id is not None:
        parts.append(encode_id_line(id))
    if event != "message":
        parts.append(b"event: " + check_event_name(event).encode() + b"\n")
    if "\n" in data or "\r" in data:
        for line in _NEWLINES.split(data):
            parts.append(b"data: " + line.encode() + b"\n")
    else:
        parts.append(b"data: " + data.encode() + b"\n")
    parts.append(b"\n")
    return b"".join(parts)


def encode_id_line(id: str) -> bytes:
    """The ``id:`` line; an empty id would reset the browser's cursor."""
    if not id or _BAD_ID_CHARS.search(id):
        raise ValueError(f"event id must be non-empty without CR, LF or NUL: {id!r}")
    return b"id: " + id.encode() + b"\n"


def encode_comment(text: str = "") -> bytes:
    """A comment block; every line of ``text`` gets its own ``:``."""
    lines = _NEWLINES.split(text)
    return b"".join(b": " + line.encode() + b"\n" for line in lines) + b"\n"


def encode_retry(milliseconds: int) -> bytes:
    """The ``retry:`` field that sets the browser's reconnection delay."""
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int):
        raise TypeError("retry must be an int of milliseconds")
    if milliseconds < 0:
        raise ValueError("retry must not be negative")
    return b"retry: %d\n\n" % milliseconds


def encode_data(data: object) -> str:
    """``str`` as is; anything else as JSON via ``DjangoJSONEncoder``."""
    if isinstance(data, str):
        return data
    try:
        return json.dumps(
            data,
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError) as exc:
        raise TypeError(f"event data cannot be encoded as JSON: {exc}") from exc
