"""The SSE ``id``: one connection's position in each of its streams.

Format: ``<tag>.<seq>.<seq>...`` where ``tag`` is six base64url characters of a
hash of the sorted stream names and each ``seq`` is base36, in sorted stream
order. Only ``[A-Za-z0-9._~-]`` is used and the whole stays within 128 bytes,
so a cross-origin reconnect sends ``Last-Event-ID`` without a CORS preflight.
A cursor for another set of streams has another tag and is refused, unless the client
names the set it belongs to (:func:`carry_over`: a page that changed its topics).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from functools import lru_cache

MAX_CURSOR_LENGTH = 128  # bytes
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class InvalidCursor(ValueError):
    """The cursor is malformed or belongs to another set of streams."""


@lru_cache(maxsize=8192)  # every connection on a stream encodes the same numbers
def _base36(number: int) -> str:
    if number == 0:
        return "0"
    out = []
    while number:
        number, digit = divmod(number, 36)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


def stream_tag(streams: Iterable[str]) -> str:
    """Six characters that identify a set of stream names."""
    return _tag(tuple(sorted(streams)))


@lru_cache(maxsize=4096)  # most connections of a process follow a few sets of streams
def _tag(streams: tuple[str, ...]) -> str:
    digest = hashlib.blake2b("\n".join(streams).encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode()[:6]


class Cursor:
    """Mutable per-connection positions, encoded cheaply after each event."""

    __slots__ = ("streams", "_index", "_tag", "_parts", "positions")

    def __init__(self, streams: Iterable[str], positions: Mapping[str, int]) -> None:
        self.streams = tuple(sorted(set(streams)))
        self._index = {name: i for i, name in enumerate(self.streams)}
        self._tag = _tag(self.streams)
        self.positions = {name: int(positions.get(name, 0)) for name in self.streams}
        self._parts = [_base36(self.positions[name]) for name in self.streams]

    def advance(self, stream: str, seq: int) -> None:
        self.positions[stream] = seq
        self._parts[self._index[stream]] = _base36(seq)

    def encode(self) -> str:
        return self._tag + "." + ".".join(self._parts)

    def chunk(self, stream: str, seq: int, frame: bytes) -> bytes:
        """Advance ``stream`` to ``seq``; its ``id:`` line, then ``frame``.

        Connections that follow one stream share the result: a fan-out hands every
        one of them the same frame, so the last chunk made is made again only when
        the frame or the id changes.
        """
        self.advance(stream, seq)
        if len(self._parts) > 1:
            return b"id: " + self.encode().encode() + b"\n" + frame
        id_line = _single_id_line(self._tag, self._parts[0])
        global _last_chunk
        last_id, last_frame, chunk = _last_chunk
        if id_line is not last_id or frame is not last_frame:
            chunk = id_line + frame
            _last_chunk = (id_line, frame, chunk)
        return chunk


@lru_cache(maxsize=4096)  # connections that follow one stream share their id lines
def _single_id_line(tag: str, part: str) -> bytes:
    return b"id: " + tag.encode() + b"." + part.encode() + b"\n"


# (id line, frame, both): the last chunk a one-stream cursor made, compared by identity.
_last_chunk: tuple[bytes, bytes, bytes] = (b"", b"", b"")


def decode(value: str, streams: Iterable[str]) -> dict[str, int]:
    """Positions per stream from ``value``, or :class:`InvalidCursor`."""
    names = sorted(set(streams))
    if len(value) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("cursor too long")
    tag, _, rest = value.partition(".")
    if tag != stream_tag(names):
        raise InvalidCursor("cursor belongs to another set of streams")
    parts = rest.split(".")
    if len(parts) != len(names):
        raise InvalidCursor("cursor has the wrong number of positions")
    positions = {}
    for name, part in zip(names, parts, strict=True):
        if not part or len(part) > 12 or part.strip(_DIGITS):
            raise InvalidCursor(f"bad position {part!r}")
        positions[name] = int(part, 36)
    return positions


def carry_over(value: str, previous: Iterable[str], streams: Iterable[str]) -> dict[str, int]:
    """The positions ``value`` (a cursor of the ``previous`` streams) holds for those of
    ``streams`` both sets share; :class:`InvalidCursor` if it is not a cursor of them."""
    old = decode(value, previous)
    return {name: old[name] for name in set(streams) if name in old}
