"""The hub's receiving side: its one channel's receive loop, and what each message
does (events fanned out in order, a logout's close, a revocation, the keepalive's ping).

A mixin of :class:`~django_sse.delivery.hub.Hub`, which holds the state it reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from channels.layers import BaseChannelLayer

from django_sse.delivery.keepalive import PING_TYPE, Keepalive
from django_sse.delivery.state import StreamState
from django_sse.delivery.subscription import revoked_notice

logger = logging.getLogger("django_sse.delivery.hub")

RING_TYPE = "sse.event"
BATCH_TYPE = "sse.events"  # many events: "frames" and "items" of (stream, seq, frame index)
CLOSE_TYPE = "sse.close"  # end a stream's local connections (of one session, if given)
REVOKE_TYPE = "sse.revoke"  # take a topic out of its local connections (of one user, if given)
BACKOFF_MIN = 0.1  # seconds before the first retry after a layer failure
BACKOFF_MAX = 5.0  # seconds


class Receiving:
    # What the hub holds (set in Hub.__init__).
    layer: BaseChannelLayer
    channel: str | None
    counters: Counter[str]
    keepalive: Keepalive
    received_at: float
    on_latency: Callable[[float], None] | None
    _streams: dict[str, StreamState]
    _receiver: asyncio.Task[None] | None
    _layer_back: asyncio.Event

    # What the hub does (defined in Hub).
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        raise NotImplementedError

    def fan_out(self, state: StreamState, seq: int | None, frame: bytes) -> None:
        raise NotImplementedError

    def _want(self, state: StreamState, seq: int) -> None:
        raise NotImplementedError

    def _emptied(self, state: StreamState) -> None:
        raise NotImplementedError

    def layer_back(self) -> None:
        """The layer answers again (the keepalive rejoined): a waiting receiver retries now."""
        self._layer_back.set()

    def restart_receiver(self) -> None:
        """Replace a receiver that may wait forever on a connection that lost its state."""
        if self._receiver is not None:
            self._receiver.cancel()
        self._receiver = self.spawn(self._receive_loop())

    async def _receive_loop(self) -> None:
        backoff = BACKOFF_MIN
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception:
                self.counters["layer_failures"] += 1
                self.keepalive.need_rejoin = True
                logger.warning("channel layer failed; retry in %.1fs", backoff, exc_info=True)
                self._layer_back.clear()
                with contextlib.suppress(TimeoutError):  # or sooner: the keepalive rejoined
                    async with asyncio.timeout(backoff):
                        await self._layer_back.wait()
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_MIN
            self.received_at = time.monotonic()
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if self.on_latency is not None and (at := message.get("at")) is not None:
            self.on_latency(max(time.time() - at, 0.0))  # clocks of two machines may differ
        if kind == RING_TYPE:
            self.counters["rings"] += 1
            state = self._streams.get(message["stream"])
            if state is not None:
                self._ring(state, message["seq"], message["frame"])
        elif kind == BATCH_TYPE:
            self._ring_batch(message["frames"], message["items"])
        elif kind == CLOSE_TYPE:
            state = self._streams.get(message.get("stream", ""))
            if state is not None:
                self._end(state, message.get("session", ""))
        elif kind == REVOKE_TYPE:
            state = self._streams.get(message.get("stream", ""))
            if state is not None:
                self._revoke(state, message.get("user", ""))
        elif kind == PING_TYPE:
            self.keepalive.pong(message["n"])

    def _ring_batch(self, frames: list[bytes], items: list[Any]) -> None:
        self.counters["rings"] += len(items)
        streams = self._streams
        for stream, seq, index in items:
            state = streams.get(stream)
            if state is not None:
                self._ring(state, seq, frames[index])

    def _ring(self, state: StreamState, seq: int | None, frame: bytes) -> None:
        if state.last is None:  # still joining: the head read after the join covers it
            return
        if seq is None:
            self.fan_out(state, None, frame)
        elif state.repairing or seq > state.last + 1:
            self._want(state, seq)
        elif seq == state.last + 1:
            state.last = state.wanted = seq
            self.fan_out(state, seq, frame)

    def _end(self, state: StreamState, session: str) -> None:
        for sub in state.subs:
            if not session or sub.session == session:
                sub.end("logout")
                self.counters["ended"] += 1

    def _revoke(self, state: StreamState, user: str) -> None:
        notice = revoked_notice(state.name)
        for sub in tuple(state.subs):
            if not user or sub.user == user:
                state.subs.discard(sub)
                sub.revoked.add(state.name)
                sub.push(state.name, None, notice)
                self.counters["revoked"] += 1
        if not state.subs:
            self._emptied(state)
