"""One open stream: replay from the log, then live frames, in exact order.

Order of work: register with the hub first (live frames start queueing), replay
everything after the cursor up to what the hub has delivered (from the hub's
recent frames, else from the log), then drain the queue skipping what the
replay already sent. A connection without a cursor starts where the hub is.
A frame that jumps ahead is preceded by the missing events read from the log;
an overflowed queue is replaced by a catch-up like the first. So a
connection sees each persistent event of each stream once, in order, or gets
``sse:reset`` when the log no longer holds what it missed.
"""

from __future__ import annotations

import json
import logging
import math
import random
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from django.db import DatabaseError
from django.dispatch import Signal

from django_sse import cursor as cursors
from django_sse import signals
from django_sse.conf import conf
from django_sse.delivery.db import run_db
from django_sse.delivery.directsend import DirectSend
from django_sse.delivery.hub import Hub
from django_sse.delivery.limits import LimitExceeded
from django_sse.delivery.subscription import Frame, Subscription
from django_sse.models import read_after, read_heads
from django_sse.typing import Send
from django_sse.wire import (
    HEARTBEAT,
    encode_comment,
    encode_event,
    encode_id_line,
    encode_retry,
)

logger = logging.getLogger("django_sse.delivery.connection")

REPLAY_BATCH = 500  # events per log query
RESET_EVENT = "sse:reset"
DROPPED_EVENT = "sse:dropped"  # ephemeral events were lost; data: {"dropped": count}
AGE_JITTER = 0.1  # a connection lives between 90% and 100% of the maximum age
DRAIN_RETRY = (100, 1000)  # milliseconds: reconnect delay told to streams at shutdown
DIRECT_MAX = 2**16 - 256  # bytes: a larger frame goes through the task (it may be split)


class _Pruned(Exception):
    """The log no longer holds an event this connection needs."""


class _Revoked(Exception):
    """The user may no longer read one of the connection's streams."""


def _user_pk(user: Any) -> str:
    return str(user.pk) if getattr(user, "is_authenticated", False) else ""


class Connection:
    def __init__(
        self,
        hub: Hub,
        streams: list[str],
        last_event_id: str | None,
        *,
        user: Any = None,
        denied: Callable[[Any, list[str]], Awaitable[list[str]]] | None = None,
        owners: tuple[tuple[str, int], ...] = (),
        session: str = "",
        previous: list[str] | None = None,
    ) -> None:
        self.hub = hub
        self.streams = sorted(set(streams))
        self.last_event_id = last_event_id
        self.previous = previous  # the streams the cursor belongs to, if not these
        self.user = user  # authorized again (by ``denied``) before each catch-up from the log
        self.denied = denied  # the streams of these ``user`` may no longer read
        self.owners = owners  # (limit key, cap) pairs
        self.session = session
        self.cursor = cursors.Cursor(self.streams, {})
        self.id = uuid.uuid4().hex
        self.direct: DirectSend | None = None
        self.sub: Subscription | None = None  # registered with the hub
        self.written_at = 0.0  # loop time of the last write
        self.closes_at = 0.0  # loop time at which the stream ends (its maximum age)

    def send_directly(self, send: Send) -> None:
        """Let the hub write live frames through ``send`` while the stream waits.

        ``send`` is the response's ASGI ``send``; the server calls it once the head
        is sent and before reading :meth:`events` past its first chunk.
        """
        self.direct = DirectSend(send)

    async def events(self) -> AsyncGenerator[bytes]:
        """The response body: bytes to write, until the maximum age is reached.

        A refusal for a cap, or a database that does not answer, is a ``retry:`` and
        a clean close, never an error status: the browser comes back later.
        """
        if self.hub.draining:  # this process is stopping: go to another one, soon
            yield encode_retry(random.randint(*DRAIN_RETRY)) + encode_comment("shutting down")
            return
        try:
            sub = await self.hub.subscribe(
                self.streams, conf.SSE_MAX_PENDING, self.owners, self.session, _user_pk(self.user)
            )
        except LimitExceeded as exc:
            self.hub.counters["refused_limit"] += 1
            yield encode_retry(conf.SSE_LIMIT_RETRY) + encode_comment(str(exc))
            return
        except DatabaseError:
            logger.warning("stream refused for now: the database does not answer", exc_info=True)
            yield encode_retry(conf.SSE_RETRY) + encode_comment("unavailable, retry")
            return
        self.sub = sub
        self.hub.counters["connects"] += 1
        if (book := self.hub.presence) is not None:
            book.joined(self.id, _user_pk(self.user), self.streams)
        self._signal(signals.connection_opened)
        try:
            # The first chunk (the browser fires `open`) waits until the stream is live.
            # No name holds the replay: it is not kept for the life of the stream.
            yield encode_retry(conf.SSE_RETRY) + encode_comment("connected") + await self._start()
            age = conf.SSE_MAX_CONNECTION_AGE * (1 - random.uniform(0, AGE_JITTER))
            self.written_at = self.hub.loop.time()
            self.closes_at = self.written_at + age
            while (chunk := await self._next(sub)) is not None:
                yield chunk
        except _Revoked:
            return
        except DatabaseError:
            logger.warning("stream closed: the database does not answer", exc_info=True)
        finally:
            self.hub.unsubscribe(sub)
            self.hub.counters["disconnects"] += 1
            if (book := self.hub.presence) is not None:
                book.left(self.id)
            if self.direct is not None:
                self.direct.discard()
            self._signal(signals.connection_closed)

    def _signal(self, signal: Signal) -> None:
        if signal.has_listeners():
            # Its own task: receivers never delay the stream, and a cancelled
            # stream (client gone) still announces its end.
            self.hub.spawn(
                signal.asend(
                    sender=Connection, connection_id=self.id, user=self.user, streams=self.streams
                )
            )

    async def _start(self) -> bytes:
        # Subscribed: every event after the hub's positions reaches us live.
        delivered = self.hub.positions(self.streams)
        if not self.last_event_id:
            self.cursor = cursors.Cursor(self.streams, delivered)
            return self._cursor_block()
        try:
            positions = cursors.decode(self.last_event_id, self.streams)
        except cursors.InvalidCursor:
            if self.previous is None:
                return self._reset("invalid")
            try:  # the page changed its topics: the streams it kept keep their place
                kept = cursors.carry_over(self.last_event_id, self.previous, self.streams)
            except cursors.InvalidCursor:
                return self._reset("invalid")
            positions = {**delivered, **kept}  # the new ones start live, as a fresh stream
        # Ahead of the hub: in flight (committed, not rung here yet) or never issued.
        if ahead := [s for s in self.streams if positions[s] > delivered[s]]:
            heads = await run_db(read_heads, ahead)
            if any(positions[s] > heads[s] for s in ahead):
                return self._reset("unknown")
        self.cursor = cursors.Cursor(self.streams, positions)
        missed = await self._catch_up([s for s in self.streams if positions[s] < delivered[s]])
        return missed or self._cursor_block()

    def _cursor_block(self) -> bytes:
        """The cursor as an ``id:`` with no data: the client keeps it, and nothing fires.

        So a client that drops before its first event resumes from here too, by
        ``Last-Event-ID``, even if its cursor came in the query string.
        """
        return encode_id_line(self.cursor.encode()) + b"\n"

    def _reset(self, reason: str) -> bytes:
        self.hub.counters["reset_" + reason] += 1
        self.hub.incidents.note("reset", f"{reason} cursor", _user_pk(self.user), self.streams)
        self.cursor = cursors.Cursor(self.streams, self.hub.positions(self.streams))
        data = json.dumps({"reason": reason})
        return encode_event(data, RESET_EVENT, self.cursor.encode())

    async def _catch_up(self, streams: list[str]) -> bytes:
        """Everything in the log after the cursor, or a reset if it was pruned."""
        out: list[bytes] = []
        try:
            for stream in streams:
                kept = self.hub.recent_after(stream, self.cursor.positions[stream])
                if kept is not None:
                    self.hub.counters["replays_memory"] += 1
                    self.hub.counters["replayed_memory"] += len(kept)
                    out.extend(self.cursor.chunk(stream, seq, frame) for seq, frame in kept)
                    continue
                self.hub.counters["replays_log"] += 1
                while rows := await self._read(stream, REPLAY_BATCH):
                    self.hub.counters["replayed_log"] += len(rows)
                    out.extend(
                        self.cursor.chunk(stream, seq, encode_event(d, e)) for seq, e, d in rows
                    )
        except _Pruned:
            return self._reset("expired")
        return b"".join(out)

    async def _read(self, stream: str, limit: int) -> list[tuple[int, str, str]]:
        position = self.cursor.positions[stream]
        rows = await run_db(read_after, stream, position, limit)
        if rows and rows[0][0] != position + 1:
            raise _Pruned
        return rows

    # While the stream waits, the hub and the ticker call these (Subscription.Direct).

    def deliver(self, stream: str, seq: int | None, frame: bytes) -> bool:
        """Write a live frame now, from the hub's fan-out.

        False leaves the frame to the stream's task: a gap to read from the log
        first, a repeat, or a frame that may need splitting.
        """
        direct = self.direct
        if direct is None or direct.busy or len(frame) > DIRECT_MAX:
            return False
        if seq is not None:
            if seq != self.cursor.positions[stream] + 1:
                return False
            frame = self.cursor.chunk(stream, seq, frame)
        self._write(direct, frame, self.hub.loop.time())
        return True

    def deadline(self, now: float) -> float | None:
        """The wait's deadline passed: write the heartbeat now and wait on, or wake
        the task (the maximum age, or a send that suspended)."""
        direct = self.direct
        if direct is None or direct.busy or now >= self.closes_at:
            return None
        heartbeat = conf.SSE_HEARTBEAT_INTERVAL
        if self.written_at + heartbeat <= now:
            self._write(direct, HEARTBEAT, now)
        return min(self.closes_at, self.written_at + heartbeat)

    def _write(self, direct: DirectSend, chunk: bytes, now: float) -> None:
        self.written_at = now
        if not direct.write(chunk) and self.sub is not None:
            self.sub.wake()  # the send suspended: the task finishes it before anything else

    async def _next(self, sub: Subscription) -> bytes | None:
        """The next chunk to write, or None: the stream ends (maximum age, logout...)."""
        loop = self.hub.loop
        heartbeat = conf.SSE_HEARTBEAT_INTERVAL
        direct = self if self.direct is not None else None
        while (left := self.closes_at - loop.time()) > 0:
            await sub.wait(min(left, self.written_at + heartbeat - loop.time()), direct)
            if self.direct is not None and self.direct.busy:
                await self.direct.finish()
            if sub.ended:
                self.closes_at = -math.inf  # this chunk is the last
                # At shutdown: come back soon, to another process.
                return (
                    encode_retry(random.randint(*DRAIN_RETRY)) if sub.ended == "shutdown" else None
                )
            if sub.overflowed:
                sub.overflowed = False
                self.hub.counters["overflows"] += 1
                dropped = f"{sub.dropped} ephemeral events dropped" if sub.dropped else ""
                self.hub.incidents.note("overflow", dropped, _user_pk(self.user), self.streams)
                sub.take()
                await self._check_allowed()
                kept = [s for s in self.streams if s not in sub.revoked]
                chunk = self._dropped(sub) + await self._catch_up(kept)
            else:
                chunk = await self._render(sub.take())
            if not chunk and loop.time() - self.written_at >= heartbeat:
                chunk = HEARTBEAT
            if chunk:
                self.written_at = loop.time()
                return chunk
        return None

    def _dropped(self, sub: Subscription) -> bytes:
        """Tell the client how many ephemeral events it lost (persistent ones follow)."""
        dropped, sub.dropped = sub.dropped, 0
        return encode_event(json.dumps({"dropped": dropped}), DROPPED_EVENT) if dropped else b""

    async def _check_allowed(self) -> None:
        """Before reading the log again: ``_Revoked`` if access was taken away."""
        if self.denied is not None and await self.denied(self.user, self.streams):
            raise _Revoked

    async def _render(self, frames: list[Frame]) -> bytes:
        out = []
        revoked = self.sub.revoked if self.sub is not None else set()
        for stream, seq, frame in frames:
            # Read the cursor afresh each time: a reset replaces it.
            position = self.cursor.positions[stream]
            if seq is None:
                out.append(frame)
            elif stream in revoked:
                continue  # queued before it was revoked: not written after the notice
            elif seq == position + 1:
                out.append(self.cursor.chunk(stream, seq, frame))
            elif seq > position:
                out.append(await self._fill_gap(stream, seq, frame))
        return b"".join(out)

    async def _fill_gap(self, stream: str, seq: int, frame: bytes) -> bytes:
        await self._check_allowed()
        try:
            rows = await self._read(stream, seq - self.cursor.positions[stream] - 1)
        except _Pruned:
            return self._reset("expired")
        self.hub.counters["replayed_log"] += len(rows)
        out = [self.cursor.chunk(stream, s, encode_event(d, e)) for s, e, d in rows]
        if self.cursor.positions[stream] == seq - 1:
            out.append(self.cursor.chunk(stream, seq, frame))
        return b"".join(out)
