"""The per-process hub: one channel-layer channel, local fan-out.

One hub per event loop owns a single layer channel. It joins a stream's group
when the first local connection needs that stream and leaves when the last one
goes, so the layer never does per-connection work. It delivers every stream's
persistent events to local subscriptions in sequence order without gaps: a ring
that jumps ahead, a lost ring found by the periodic head check, or a layer
outage each make it read the missing events from the log once for the whole
process. A stream nobody here reads any more lingers for ``LINGER`` seconds
(still joined, still delivering into its recent frames) so that clients coming
back together find it warm: no join, no log read.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from django_sse.conf import conf
from django_sse.delivery import log_watch, repair, shutdown
from django_sse.delivery.db import run_db
from django_sse.delivery.keepalive import Keepalive
from django_sse.delivery.limits import Quota
from django_sse.delivery.live import Incidents, snapshot
from django_sse.delivery.membership import LAYER_TIMEOUT, Memberships
from django_sse.delivery.presence import PresenceBook
from django_sse.delivery.receiving import (  # the message types, for those who send them
    BATCH_TYPE,
    CLOSE_TYPE,
    REVOKE_TYPE,
    RING_TYPE,
    Receiving,
)
from django_sse.delivery.state import StreamState
from django_sse.delivery.subscription import Subscription
from django_sse.models import read_heads
from django_sse.streams import HUBS_GROUP, group_name

logger = logging.getLogger("django_sse.delivery.hub")
__all__ = ["BATCH_TYPE", "CLOSE_TYPE", "REVOKE_TYPE", "RING_TYPE", "Hub", "get_hub", "running_hub"]

LINGER = 30.0  # seconds a stream stays joined after its last local connection left


# Coroutines to run beside each hub once it opens (the metrics' copier, when installed):
# the hub knows nothing of what they are.
ON_OPEN: list[Callable[[Hub], Coroutine[Any, Any, None]]] = []


class Hub(Receiving):
    def __init__(self, layer: BaseChannelLayer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.groups = Memberships(layer)
        self.channel: str | None = None
        self.counters: Counter[str] = Counter()
        self._streams: dict[str, StreamState] = {}
        self._leaving: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._starting: asyncio.Task[None] | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._layer_back = asyncio.Event()
        self.keepalive = Keepalive(self)
        self.presence: PresenceBook | None = None  # set on open when SSE_PRESENCE_TTL is
        self.incidents = Incidents()  # recent resets and overflows, for the admin
        self.quota = Quota()
        self.draining = False
        self.received_at = 0.0  # monotonic time of the last message received
        # Called with each event message's age (seconds since its ring was handed in).
        self.on_latency: Callable[[float], None] | None = None
        self.linger = LINGER

    # Connections ----------------------------------------------------------

    async def subscribe(
        self,
        streams: Iterable[str],
        max_pending: int,
        owners: Iterable[tuple[str, int]] = (),
        session: str = "",
        user: str = "",
    ) -> Subscription:
        """Register a connection; live frames queue up from the moment this returns.

        ``owners`` are (key, cap) pairs this connection counts against; a full one
        raises :class:`~django_sse.delivery.limits.LimitExceeded` before anything is done.
        """
        sub = Subscription(tuple(streams), max_pending, self.quota.take(owners), session, user)
        if self.draining:
            sub.end("shutdown")
        try:
            await self.start()
        except BaseException:
            self.quota.give_back(sub.owners)
            raise
        joins = []
        for name in sub.streams:
            state = self._streams.get(name)
            if state is None:
                state = self._streams[name] = StreamState(name)
                state.ready = self.spawn(self._join(state))
            elif state.linger is not None:
                state.linger.cancel()
                state.linger = None
            state.subs.add(sub)
            assert state.ready is not None
            if not state.ready.done():  # joined streams cost no await (most connects)
                joins.append(asyncio.shield(state.ready))
        try:
            if joins:
                await asyncio.gather(*joins)
        except BaseException:
            self.unsubscribe(sub)
            raise
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a connection; leave the groups nobody here needs any more."""
        if sub.closed:
            return
        sub.closed = True
        self.quota.give_back(sub.owners)
        for name in sub.streams:
            state = self._streams.get(name)
            if state is None or sub not in state.subs:
                continue
            state.subs.discard(sub)
            if not state.subs:
                self._emptied(state)

    def _emptied(self, state: StreamState) -> None:
        """Nobody here reads ``state`` any more: linger, then leave its group."""
        if self.linger > 0 and state.last is not None:
            state.linger = self.loop.call_later(self.linger, self._retire, state)
        else:
            self._retire(state)

    def _retire(self, state: StreamState) -> None:
        state.linger = None
        if not state.subs and self._streams.get(state.name) is state:
            del self._streams[state.name]
            self._leaving[state.name] = self.spawn(self._leave(state))

    def positions(self, streams: Iterable[str]) -> dict[str, int]:
        """The last seq delivered here on each of a subscription's streams.

        Every later event reaches the subscription live, so this is where a
        connection without a cursor starts, read without touching the log.
        """
        positions = {}
        for name in streams:
            last = self._streams[name].last
            assert last is not None, "positions() of a stream not joined"
            positions[name] = last
        return positions

    def recent_after(self, stream: str, position: int) -> list[tuple[int, bytes]] | None:
        """The frames after ``position`` if the hub still holds all of them, else None."""
        state = self._streams.get(stream)
        if state is None:
            return None
        return state.recent.after(position, self.loop.time() - conf.SSE_EVENT_TTL)

    def stats(self) -> dict[str, int]:
        subs = {sub for state in self._streams.values() for sub in state.subs}
        return {
            "subscriptions": len(subs),
            "streams": sum(1 for state in self._streams.values() if state.subs),
            "lingering": sum(1 for state in self._streams.values() if not state.subs),
            "leaving": len(self._leaving),
            "tasks": len(self._tasks),
            **self.counters,
        }

    # Group membership -----------------------------------------------------

    async def _join(self, state: StreamState) -> None:
        previous = self._leaving.get(state.name)
        if previous is not None:
            await asyncio.wait([previous], timeout=LAYER_TIMEOUT)
        assert self.channel is not None
        try:
            await self.groups.add(group_name(state.name), self.channel)
        except Exception:
            logger.warning("group_add(%s) failed; will retry", state.name, exc_info=True)
            self.keepalive.need_rejoin = True
        try:
            heads = await run_db(read_heads, [state.name])
        except BaseException:
            if self._streams.get(state.name) is state:
                del self._streams[state.name]
            raise
        state.last = state.wanted = heads[state.name]

    async def _leave(self, state: StreamState) -> None:
        try:
            if state.ready is not None:
                await asyncio.wait([state.ready])
            assert self.channel is not None
            await self.groups.discard(group_name(state.name), self.channel)
        except Exception:
            logger.warning("group_discard(%s) failed", state.name, exc_info=True)
        finally:
            if self._leaving.get(state.name) is asyncio.current_task():
                del self._leaving[state.name]

    # Receiving ------------------------------------------------------------

    async def start(self) -> None:
        """Open the hub's layer channel and start receiving (once; streams do it too)."""
        if self.channel is not None:  # open (a failed open leaves it None)
            return
        if self._starting is None:
            self._starting = self.spawn(self._open())
        try:
            await asyncio.shield(self._starting)
        except Exception:
            self._starting = None
            raise

    def resume(self) -> None:
        """Serve new streams again: the shutdown a drain announced did not come."""
        self.draining = False

    def drain(self) -> None:
        """End every local stream cleanly (the process is shutting down)."""
        self.draining = True
        for state in self._streams.values():
            for sub in state.subs:
                sub.end("shutdown")

    async def _open(self) -> None:
        if shutdown.ENABLED:
            shutdown.install(self.loop, self.drain, self.resume)
        channel = await self.layer.new_channel()
        try:  # before any stream joins: a batch for many streams comes through it
            await self.groups.add(HUBS_GROUP, channel)
        except Exception:
            logger.warning("group_add(%s) failed; will retry", HUBS_GROUP, exc_info=True)
            self.keepalive.need_rejoin = True
        self.channel = channel
        self._receiver = self.spawn(self._receive_loop())
        self.spawn(self.keepalive.run())
        if (ttl := conf.SSE_PRESENCE_TTL) is not None:
            self.presence = PresenceBook(ttl, lambda: snapshot(self))
            self.spawn(self.presence.run())
        for hook in ON_OPEN:
            self.spawn(hook(self))
        if (path := log_watch.sqlite_file(self.layer)) is not None:
            self.spawn(log_watch.LogWatch(self, path).run())

    def stream_names(self) -> list[str]:
        return list(self._streams)

    def state_of(self, name: str) -> StreamState | None:
        return self._streams.get(name)

    def joined(self) -> list[StreamState]:
        return [s for s in self._streams.values() if s.last is not None]

    def fan_out(self, state: StreamState, seq: int | None, frame: bytes) -> None:
        if seq is not None:
            state.recent.add(seq, frame, self.loop.time())
        subs = tuple(state.subs)  # a push may write to a server, which may call back
        for sub in subs:
            sub.push(state.name, seq, frame)
        self.counters["deliveries"] += len(subs)

    # Repair from the log (django_sse.delivery.repair) ----------------------------

    def _want(self, state: StreamState, seq: int) -> None:
        repair.want(self, state, seq)

    async def resync(self) -> None:
        """Compare every joined stream with its head in the log; fetch what is missing."""
        await repair.resync(self)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of the hub, outside any request's context."""
        # A fresh context: hub tasks outlive the request that happened to start them.
        task = self.loop.create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def get_hub() -> Hub:
    """The hub of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer(conf.SSE_CHANNEL_LAYER)
    if layer is None:
        raise ImproperlyConfigured(
            f"django_sse needs CHANNEL_LAYERS[{conf.SSE_CHANNEL_LAYER!r}] to be set"
        )
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:
        for old in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[old]
        hub = _hubs[loop] = Hub(layer, loop)
    return hub


def running_hub() -> Hub | None:
    """A hub whose loop runs in this process, for publishers on other threads."""
    for loop, hub in list(_hubs.items()):
        if loop.is_running():
            return hub
    return None
