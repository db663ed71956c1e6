"""One connection's mailbox in the hub: a bounded list of live frames.

While its connection waits with nothing queued, a subscription may hand each
frame to a :class:`Direct` instead (the connection writes it at once, see
:mod:`django_sse.delivery.directsend`); a frame it declines is queued, and every later
one queues behind it until the connection has taken them. When the wait's
deadline passes, the :class:`Direct` may keep the wait going (it wrote a
heartbeat itself) instead of waking the connection.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Protocol

from django_sse.delivery.ticker import Ticker, ticker_for
from django_sse.streams import TOPIC_PREFIX
from django_sse.wire import encode_event

Frame = tuple[str, int | None, bytes]  # (stream, seq or None if ephemeral, bytes)
REVOKED_EVENT = "sse:revoked"


def revoked_notice(stream: str) -> bytes:
    """What a connection is told when ``stream`` is taken out of it."""
    data = {"stream": stream, "topic": stream.removeprefix(TOPIC_PREFIX)}
    return encode_event(json.dumps(data), REVOKED_EVENT)


class Direct(Protocol):
    """Who may take over while the connection waits (the connection itself)."""

    def deliver(self, stream: str, seq: int | None, frame: bytes) -> bool:
        """Write a live frame now; False leaves it to the queue (and ends the wait)."""

    def deadline(self, now: float) -> float | None:
        """The wait's deadline passed: a new one to wait until, or None to end the wait."""


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Subscription:
    """Live frames for one connection, filled by the hub, drained by the view.

    When more than ``max_pending`` frames wait, the queue is dropped and
    ``overflowed`` is set: the connection then catches up from the log, which
    holds every persistent event it missed. Ephemeral ones are lost; ``dropped``
    counts them, so the connection can say so.
    """

    __slots__ = (
        "streams",
        "max_pending",
        "owners",
        "session",
        "user",
        "revoked",
        "overflowed",
        "dropped",
        "closed",
        "ended",
        "_queue",
        "_waiter",
        "_direct",
        "_deadline",
        "_watched_from",
        "__weakref__",  # the ticker's heap holds subscriptions weakly
    )

    def __init__(
        self,
        streams: tuple[str, ...],
        max_pending: int,
        owners: tuple[str, ...] = (),
        session: str = "",
        user: str = "",
    ) -> None:
        self.streams = streams
        self.max_pending = max_pending
        self.owners = owners  # limit keys this connection counts against
        self.session = session  # a digest of the session key, for logout
        self.user = user  # the user's primary key ("" for anonymous), for revocation
        self.revoked: set[str] = set()  # streams taken out of it: never delivered again
        self.overflowed = False
        self.dropped = 0  # ephemeral frames lost to overflows, not yet reported
        self.closed = False  # unsubscribed from the hub
        self.ended = ""  # why it was told to end ("logout", "shutdown"); then it closes
        self._queue: list[Frame] = []
        self._waiter: asyncio.Future[None] | None = None
        self._direct: Direct | None = None  # set only while waiting with an empty queue
        self._deadline = 0.0  # when the current (or last) wait ends, in loop time
        self._watched_from = math.inf  # the ticker ends waits ending at or after this

    def push(self, stream: str, seq: int | None, frame: bytes) -> None:
        if self._direct is not None and self._direct.deliver(stream, seq, frame):
            return
        if self.overflowed:
            self.dropped += seq is None
            return
        if len(self._queue) >= self.max_pending:
            self.dropped += sum(1 for f in self._queue if f[1] is None) + (seq is None)
            self._queue = []
            self.overflowed = True
        else:
            self._queue.append((stream, seq, frame))
        self.wake()

    def wake(self) -> None:
        """End the current wait now; frames queue until the next one."""
        self._direct = None
        if self._waiter is not None:
            _wake(self._waiter)

    def end(self, reason: str) -> None:
        """Ask the connection to close now, e.g. its user logged out."""
        self.ended = reason
        self.wake()

    def take(self) -> list[Frame]:
        """Every queued frame, oldest first, leaving the queue empty."""
        frames, self._queue = self._queue, []
        return frames

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def wait(self, timeout: float, direct: Direct | None = None) -> None:
        """Return when a frame or an overflow is pending, or after ``timeout``.

        Meanwhile frames go to ``direct``, if given, until it declines one, and
        it decides what happens when ``timeout`` has passed.
        """
        if self._queue or self.overflowed or self.ended:
            return
        loop = asyncio.get_running_loop()
        deadline = self._deadline = loop.time() + timeout
        if deadline < self._watched_from:  # else the ticker's entry covers it already
            self._watched_from = ticker_for(loop).watch(self, deadline, timeout)
        waiter = self._waiter = loop.create_future()
        self._direct = direct
        try:
            await waiter
        finally:
            self._waiter = self._direct = None

    def due(self, ticker: Ticker, watched_from: float, now: float) -> None:
        """The ticker's entry came due: end the wait if its deadline has passed."""
        if watched_from != self._watched_from:
            return  # an earlier entry, made since, took over
        self._watched_from = math.inf
        waiter = self._waiter
        if waiter is None:
            return  # not waiting: the next wait makes a new entry
        if self._deadline <= now:
            later = self._direct.deadline(now) if self._direct is not None else None
            if later is None or waiter.done():
                _wake(waiter)
                return
            self._deadline = later
        # It waited again since the entry was made, or its direct moved the deadline.
        self._watched_from = ticker.watch(self, self._deadline, self._deadline - now)
