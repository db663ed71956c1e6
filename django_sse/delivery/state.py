"""What the hub's helpers see of it: a stream's state, and two small interfaces.

The hub (:mod:`django_sse.delivery.hub`) owns the streams. Its repair from the log,
its keepalive and its log watch get the hub as one of the protocols below, so none
of them imports the hub nor reaches into its private state, and the hub imports
each of them without a cycle.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from django_sse.conf import conf
from django_sse.delivery.recent import RecentFrames

if TYPE_CHECKING:
    from channels.layers import BaseChannelLayer

    from django_sse.delivery.membership import Memberships
    from django_sse.delivery.subscription import Subscription


class StreamState:
    """One stream this process has joined: its subscriptions and delivery position."""

    __slots__ = ("name", "subs", "last", "wanted", "repairing", "ready", "recent", "linger")

    def __init__(self, name: str) -> None:
        self.name = name
        self.subs: set[Subscription] = set()
        self.last: int | None = None  # last seq delivered; None until joined
        self.wanted = 0  # highest seq known to be committed
        self.repairing = False
        self.ready: asyncio.Task[None] | None = None
        self.recent = RecentFrames(conf.SSE_MAX_EVENTS_PER_STREAM)  # for reconnects
        self.linger: asyncio.TimerHandle | None = None  # set while nobody reads it


class RepairHost(Protocol):
    """What repair from the log needs of the hub."""

    counters: Counter[str]

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...

    def state_of(self, name: str) -> StreamState | None:
        """The stream's live state, or None once it is left."""
        ...

    def joined(self) -> list[StreamState]:
        """Every stream whose position is known (joined and read once)."""
        ...

    def fan_out(self, state: StreamState, seq: int | None, frame: bytes) -> None: ...


class WatchHost(Protocol):
    """What the keepalive and the log watch need of the hub."""

    layer: BaseChannelLayer
    groups: Memberships
    channel: str | None
    counters: Counter[str]
    received_at: float

    def stream_names(self) -> list[str]: ...

    def restart_receiver(self) -> None: ...

    def layer_back(self) -> None: ...

    async def resync(self) -> None: ...
