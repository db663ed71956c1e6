"""The last frames a hub delivered on one stream, to replay reconnects from memory.

After a deploy or a network blip thousands of clients come back at once, each a
few events behind. Reading and re-encoding the same rows from the log for every
one of them is what made a reconnect storm slow; the hub already holds those
frames, in order and without gaps, so it keeps the most recent ones per stream.
The log stays the source of truth: a cursor older than what is kept is replayed
from the database as before, and nothing is kept that the log may have pruned
(more than ``SSE_MAX_EVENTS_PER_STREAM`` events back, or older than
``SSE_EVENT_TTL``), so a cursor is answered the same on every process.
"""

from __future__ import annotations

from collections import deque
from itertools import islice

MAX_FRAMES = 512  # frames kept per stream
MAX_BYTES = 256 * 1024  # bytes kept per stream (events may be up to SSE_MAX_EVENT_SIZE)


class RecentFrames:
    """A contiguous run of ``(seq, frame)``, newest last, bounded in count and bytes."""

    __slots__ = ("_frames", "_times", "_bytes", "max_frames")

    def __init__(self, max_frames: int = MAX_FRAMES) -> None:
        self._frames: deque[tuple[int, bytes]] = deque()
        self._times: deque[float] = deque()  # when each frame was kept
        self._bytes = 0
        self.max_frames = min(max_frames, MAX_FRAMES)

    def add(self, seq: int, frame: bytes, now: float = 0.0) -> None:
        """Keep ``frame``; ``seq`` must follow the newest kept one (else start over)."""
        if self._frames and seq != self._frames[-1][0] + 1:
            self.clear()
        self._frames.append((seq, frame))
        self._times.append(now)
        self._bytes += len(frame)
        while len(self._frames) > self.max_frames or self._bytes > MAX_BYTES:
            self._bytes -= len(self._frames.popleft()[1])
            self._times.popleft()

    def clear(self) -> None:
        self._frames.clear()
        self._times.clear()
        self._bytes = 0

    def after(self, position: int, since: float = 0.0) -> list[tuple[int, bytes]] | None:
        """Every frame after ``position``, or None if one is not kept or kept before ``since``."""
        if not self._frames:
            return None
        first, last = self._frames[0][0], self._frames[-1][0]
        if position >= last:
            return []
        if position + 1 < first or self._times[position + 1 - first] < since:
            return None
        return list(islice(self._frames, position + 1 - first, None))

    def __len__(self) -> int:
        return len(self._frames)
