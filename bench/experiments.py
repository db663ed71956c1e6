"""Prototypes of core optimisations, patched in at server start to measure their gain.

Bench-only: ``DJANGO_SSE_BENCH_PATCHES=notimeout,wheel,...`` makes ``bench.asgi``
call :func:`apply` before it builds the handler. Each patch is the smallest
change that shows what the real one would buy; none is meant to be shipped as is
(see docs/benchmarks.md for the proposed changes to django_sse/).

- ``notimeout``: no send timeout at all (not even ``django_sse.watchdog``, which
  replaced ``asyncio.timeout`` around each send): what the watchdog still costs.
- ``wheel``: ``Subscription.wait`` without a timer per wait; now in the core
  (``django_sse.ticker``), so a no-op kept for old command lines.
- ``sendtimer``, ``waittimer``: back to the timer per send (``asyncio.timeout``)
  and per wait (``call_later``) that the watchdog and the ticker replaced.
- ``idcache``: one ``id:`` line per (stream, seq) for single-stream connections,
  shared by all of them, instead of a cursor encoding per event per connection.
- ``hubheads``: a connection reads the heads of streams its hub already follows
  from the hub instead of the database (no query on connect without a cursor).
- ``keepdb``: database bursts keep their thread's connection (``CONN_MAX_AGE``
  None; the bursts run on a few pooled threads, so a few connections in all).
- ``leanmw``: only the session and authentication middleware (4 thread hops per
  request instead of 12), what a middleware-free path for the endpoint would buy.
- ``writethrough``: Twisted's TCP transport sends at once when its buffer is
  empty instead of registering a writer and sending on the next loop turn.
- ``slowpath``: ``SSE_FAST_PATH = False``, the endpoint through Django's own request
  path, to compare with the pooled handler's fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PATCHES = (
    "notimeout",
    "wheel",
    "idcache",
    "hubheads",
    "keepdb",
    "leanmw",
    "writethrough",
    "slowpath",
    "sendtimer",
    "waittimer",
)


def apply(names: list[str]) -> None:
    if unknown := set(names) - set(PATCHES):
        raise ValueError(f"unknown patches: {', '.join(sorted(unknown))}")
    for name in names:
        globals()[f"_{name}"]()


def _notimeout() -> None:
    from django_sse.watchdog import Watchdog

    def bare(self: Watchdog, send: Any) -> Any:
        return send

    Watchdog.watch = bare  # type: ignore[method-assign]


def _wheel() -> None:
    """In the core since: ``django_sse.ticker`` (one timer per loop, none per wait)."""


def _sendtimer() -> None:
    import asyncio

    from django_sse.watchdog import Watchdog

    def with_timeout(self: Watchdog, send: Any) -> Any:
        async def send_within_timeout(message: Any) -> None:
            async with asyncio.timeout(self.timeout):
                await send(message)

        return send_within_timeout

    Watchdog.watch = with_timeout  # type: ignore[method-assign]


def _waittimer() -> None:
    import asyncio

    from django_sse.subscription import Subscription, _wake

    async def wait(self: Subscription, timeout: float) -> None:
        if self._queue or self.overflowed or self.ended:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    Subscription.wait = wait  # type: ignore[method-assign]


def _idcache() -> None:
    from django_sse.connection import Connection
    from django_sse.wire import encode_id_line

    original = Connection._emit
    lines: dict[tuple[str, int], bytes] = {}

    def emit(self: Connection, stream: str, seq: int, frame: bytes) -> bytes:
        if len(self.streams) != 1:
            return original(self, stream, seq, frame)
        line = lines.get((stream, seq))
        if line is None:
            if len(lines) > 10_000:
                lines.clear()
            self.cursor.advance(stream, seq)
            line = lines[stream, seq] = encode_id_line(self.cursor.encode())
        else:
            self.cursor.positions[stream] = seq  # its encoding is the shared line
        return line + frame

    Connection._emit = emit  # type: ignore[method-assign]


def _hubheads() -> None:
    from django_sse import connection
    from django_sse.db import run_db as original
    from django_sse.hub import get_hub
    from django_sse.models import read_heads

    async def run_db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if fn is read_heads:
            states = [get_hub()._streams.get(name) for name in args[0]]
            if all(s is not None and s.last is not None and not s.repairing for s in states):
                return {s.name: s.last for s in states if s is not None}
        return await original(fn, *args, **kwargs)

    connection.run_db = run_db  # type: ignore[attr-defined]


def _keepdb() -> None:
    """Done by ``bench.settings`` (``CONN_MAX_AGE``), before connections are configured."""


def _leanmw() -> None:
    """Done by ``bench.settings`` (``MIDDLEWARE``)."""


def _slowpath() -> None:
    """Done by ``bench.settings`` (``SSE_FAST_PATH``)."""


def _writethrough() -> None:
    from twisted.internet import tcp  # type: ignore[import-not-found,unused-ignore]

    write, write_sequence = tcp.Connection.write, tcp.Connection.writeSequence

    def send_now(self: Any, data: bytes) -> bytes:
        if self.dataBuffer or self._tempDataBuffer or not self.connected or self.disconnecting:
            return data
        try:
            sent: int = self.socket.send(data)
        except BlockingIOError:
            return data
        except OSError:
            return data  # Twisted's own path reports the error
        return data[sent:]

    def write_now(self: Any, data: bytes) -> None:
        if rest := send_now(self, data):
            write(self, rest)  # type: ignore[no-untyped-call]

    def write_sequence_now(self: Any, seq: list[bytes]) -> None:
        if rest := send_now(self, b"".join(seq)):
            write_sequence(self, [rest])  # type: ignore[no-untyped-call]

    tcp.Connection.write = write_now  # type: ignore[method-assign]
    tcp.Connection.writeSequence = write_sequence_now  # type: ignore[method-assign]
