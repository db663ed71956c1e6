"""Rings: telling every hub about new events, from any thread, in batches, in order.

A :class:`Ringer` belongs to one event loop. Publishers on any thread queue
rings without waiting; the loop sends whatever has queued up since its last
send in one go: one ``group_send`` per stream (several events of a stream in
one message), or, when a batch touches many streams, one message to the group
every hub joins. Batches go out one after another, so a stream's rings leave in
the order they were queued. A ring the layer refuses is logged, never raised:
a persistent event is in the log and hubs read it when they resync.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from channels.layers import get_channel_layer

from django_sse.conf import conf
from django_sse.delivery.hub import BATCH_TYPE, RING_TYPE
from django_sse.streams import HUBS_GROUP, group_name

logger = logging.getLogger("django_sse.publish")

FAN_IN_STREAMS = 8  # a batch on more streams than this goes to every hub in one message
BATCH_BYTES = 256 * 1024  # frame bytes in one batch message (channels-redis sends it whole)
BATCH_ITEMS = 20_000  # events in one batch message
MAX_QUEUED = 100_000  # rings waiting to be sent; past it the oldest are dropped
LAYER_TIMEOUT = 5.0  # seconds one group_send may take (an unreachable Redis hangs)
GATHER = 0.001  # seconds a busy ringer lets rings gather before the next send (in a server)
WORKER_GATHER = 0.005  # the same outside a server: rings cross the layer anyway


class Ring(NamedTuple):
    stream: str
    seq: int | None  # None: an ephemeral event
    frame: bytes


class Note(NamedTuple):
    """A message for one group that is not an event (closing a user's streams)."""

    group: str
    message: dict[str, Any]


Item = Ring | Note
Outgoing = tuple[str, dict[str, Any], list[Item]]  # group, message, what it carries


class Ringer:
    def __init__(self, loop: asyncio.AbstractEventLoop, gather: float = GATHER) -> None:
        self.loop = loop
        self.gather = gather
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: list[Item] = []
        self._busy = False
        self._queued = 0  # items ever queued
        self._done = 0  # items ever sent, failed or dropped
        self._task: asyncio.Task[None] | None = None
        self._hot = False  # a send just finished and more rings may be on their way
        self._since = 0.0  # wall-clock time the oldest queued ring was handed in

    def put(self, items: Iterable[Item]) -> None:
        """Queue ``items`` (from any thread); the loop sends them soon after."""
        items = list(items)
        with self._lock:
            if not self._queue:
                self._since = time.time()
            self._queue.extend(items)
            self._queued += len(items)
            dropped = self._drop_overflow()
            start, self._busy = not self._busy, True
        if dropped:
            _log_failed(dropped, "too many rings waiting")
        if start:
            self._call(self._start)

    def _drop_overflow(self) -> list[Item]:
        overflow = len(self._queue) - MAX_QUEUED
        if overflow <= 0:
            return []
        dropped = self._queue[:overflow]
        del self._queue[:overflow]
        self._done += overflow
        return dropped

    def wait(self, timeout: float) -> bool:
        """Block until everything queued so far is sent; False on timeout (other threads)."""
        with self._lock:
            ticket = self._queued
            return self._changed.wait_for(lambda: self._done >= ticket, timeout)

    def _call(self, fn: Any) -> None:
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            fn()
            return
        try:
            self.loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop is closed: the process is exiting
            with self._lock:
                lost, self._queue = self._queue, []
                self._done += len(lost)
                self._busy = False
            _log_failed(lost, "the publisher loop has stopped")

    def _start(self) -> None:
        # A fresh context: the drain outlives whichever publisher started it.
        self._task = self.loop.create_task(self._drain(), context=contextvars.Context())

    async def _drain(self) -> None:
        while True:
            if self._hot:
                # Publishers are busy: a millisecond's wait lets several rings share
                # one send, which costs the layer and this process as much as one.
                await asyncio.sleep(self.gather)
            with self._lock:
                batch, self._queue, since = self._queue, [], self._since
                if not batch:
                    self._busy = self._hot = False
                    self._changed.notify_all()
                    break
            try:
                await _send(batch, since)
            except Exception:  # a bug here must not stop every later ring
                logger.exception("sending %d rings failed", len(batch))
            with self._lock:
                self._done += len(batch)
                self._changed.notify_all()
                self._hot = True


async def _send(batch: Sequence[Item], since: float) -> None:
    """Send ``batch``; each event message carries ``at``, when its oldest ring was handed
    in (after the commit), so a hub can tell how long delivery took."""
    layer = get_channel_layer(conf.SSE_CHANNEL_LAYER)
    if layer is None:
        _log_failed(batch, "no channel layer configured")
        return
    for group, message, items in messages(batch):  # one after another: in order
        if message["type"] in (RING_TYPE, BATCH_TYPE):
            message["at"] = since
        try:
            await _group_send(layer, group, message)
        except Exception as exc:
            _log_failed(items, "layer unreachable", exc)


async def _group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
    async with asyncio.timeout(LAYER_TIMEOUT):
        try:
            await layer.group_send(group, message)
        except ConnectionError:
            # Once more: after a Redis restart the first command fails on a pooled
            # connection that died with the old server.
            await layer.group_send(group, message)


def messages(batch: Sequence[Item]) -> list[Outgoing]:
    """The layer messages that carry ``batch``, in order, in as few sends as fit.

    Sent one after another, they keep the batch's order across streams too: each
    run of one stream's events is one message to its group, unless the batch
    touches more than ``FAN_IN_STREAMS`` streams or would visit a stream twice;
    then it all goes, in order, to the group every hub joins.
    """
    runs: list[list[Item]] = []
    for item in batch:
        if runs and _stream(runs[-1][-1]) == _stream(item) and isinstance(item, Ring):
            runs[-1].append(item)
        else:
            runs.append([item])
    rings = [r for r in batch if isinstance(r, Ring)]
    streams = {r.stream for r in rings}
    ring_runs = sum(1 for run in runs if isinstance(run[0], Ring))
    if len(streams) > FAN_IN_STREAMS or ring_runs > len(streams):
        notes: list[Outgoing] = [(n.group, n.message, [n]) for n in batch if isinstance(n, Note)]
        return notes + [(HUBS_GROUP, _batch(chunk), list(chunk)) for chunk in _chunks(rings)]
    out: list[Outgoing] = []
    for run in runs:
        first = run[0]
        if isinstance(first, Note):
            out.append((first.group, first.message, run))
        elif len(run) == 1:
            message = {"type": RING_TYPE, "stream": first.stream, "seq": first.seq}
            out.append((group_name(first.stream), {**message, "frame": first.frame}, run))
        else:
            own = [r for r in run if isinstance(r, Ring)]
            out += [(group_name(first.stream), _batch(c), list(c)) for c in _chunks(own)]
    return out


def _stream(item: Item) -> str:
    return item.stream if isinstance(item, Ring) else ""


def _chunks(rings: list[Ring]) -> Iterable[list[Ring]]:
    chunk: list[Ring] = []
    size = 0
    for ring in rings:
        if chunk and (size + len(ring.frame) > BATCH_BYTES or len(chunk) >= BATCH_ITEMS):
            yield chunk
            chunk, size = [], 0
        chunk.append(ring)
        size += len(ring.frame)  # an upper bound: repeated frames travel once
    if chunk:
        yield chunk


def _batch(rings: list[Ring]) -> dict[str, Any]:
    """One message for many events; a frame sent to many streams travels once."""
    index: dict[bytes, int] = {}
    frames: list[bytes] = []
    items = []
    for ring in rings:
        i = index.get(ring.frame)
        if i is None:
            i = index[ring.frame] = len(frames)
            frames.append(ring.frame)
        items.append((ring.stream, ring.seq, i))
    return {"type": BATCH_TYPE, "frames": frames, "items": items}


def _log_failed(items: Sequence[Item], why: str, exc: BaseException | None = None) -> None:
    rings = [r for r in items if isinstance(r, Ring)]
    stored = [r for r in rings if r.seq is not None]
    ephemeral = [r for r in rings if r.seq is None]
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    for note in items:
        if isinstance(note, Note):
            kind = note.message["type"]
            logger.error("%s for %s failed: %s", kind, note.group, why, exc_info=info)
    if len(stored) == 1:
        logger.error(
            "ring for %s #%s failed (%s); subscribers will read it from the log",
            stored[0].stream,
            stored[0].seq,
            why,
            exc_info=info,
        )
    elif stored:
        logger.error(
            "rings for %d events failed (%s); subscribers will read them from the log",
            len(stored),
            why,
            exc_info=info,
        )
    if ephemeral:
        logger.warning(
            "%d ephemeral event(s) on %s dropped: %s",
            len(ephemeral),
            ", ".join(sorted({r.stream for r in ephemeral})[:5]),
            why,
            exc_info=info,
        )


_ringers: dict[asyncio.AbstractEventLoop, Ringer] = {}
_ringers_lock = threading.Lock()


def ringer_for(loop: asyncio.AbstractEventLoop, gather: float = GATHER) -> Ringer:
    """The ringer of ``loop``, created on first use (with ``gather``)."""
    with _ringers_lock:
        ringer = _ringers.get(loop)
        if ringer is None:
            for old in [lp for lp in _ringers if lp.is_closed()]:
                del _ringers[old]
            ringer = _ringers[loop] = Ringer(loop, gather)
        return ringer


def all_ringers() -> list[Ringer]:
    with _ringers_lock:
        return list(_ringers.values())


def forget_ringers() -> None:
    """After ``fork()``: the parent's loops do not run in the child."""
    global _ringers_lock
    _ringers.clear()
    _ringers_lock = threading.Lock()
