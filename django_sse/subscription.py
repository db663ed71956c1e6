"""One connection's mailbox in the hub: a bounded list of live frames."""

from __future__ import annotations

import asyncio

Frame = tuple[str, int | None, bytes]  # (stream, seq or None if ephemeral, bytes)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Subscription:
    """Live frames for one connection, filled by the hub, drained by the view.

    When more than ``max_pending`` frames wait, the queue is dropped and
    ``overflowed`` is set: the connection then catches up from the log, which
    holds every persistent event it missed (ephemeral ones are skipped).
    """

    __slots__ = (
        "streams",
        "max_pending",
        "owners",
        "session",
        "overflowed",
        "closed",
        "ended",
        "_queue",
        "_waiter",
    )

    def __init__(
        self,
        streams: tuple[str, ...],
        max_pending: int,
        owners: tuple[str, ...] = (),
        session: str = "",
    ) -> None:
        self.streams = streams
        self.max_pending = max_pending
        self.owners = owners  # limit keys this connection counts against
        self.session = session  # a digest of the session key, for logout
        self.overflowed = False
        self.closed = False  # unsubscribed from the hub
        self.ended = ""  # why it was told to end ("logout", "shutdown"); then it closes
        self._queue: list[Frame] = []
        self._waiter: asyncio.Future[None] | None = None

    def push(self, stream: str, seq: int | None, frame: bytes) -> None:
        if self.overflowed:
            return
        if len(self._queue) >= self.max_pending:
            self._queue = []
            self.overflowed = True
        else:
            self._queue.append((stream, seq, frame))
        if self._waiter is not None:
            _wake(self._waiter)

    def end(self, reason: str) -> None:
        """Ask the connection to close now, e.g. its user logged out."""
        self.ended = reason
        if self._waiter is not None:
            _wake(self._waiter)

    def take(self) -> list[Frame]:
        """Every queued frame, oldest first, leaving the queue empty."""
        frames, self._queue = self._queue, []
        return frames

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def wait(self, timeout: float) -> None:
        """Return when a frame or an overflow is pending, or after ``timeout``."""
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
