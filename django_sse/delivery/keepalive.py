"""Keeping a hub's group memberships alive, whatever the channel layer does.

A restarted Redis forgets every group, and channels-redis does not always say so:
a receive that was not in flight reconnects silently and then waits forever. So a
hub proves its memberships work by ringing itself: every ``PING_INTERVAL`` it
sends a ping to a group of its own. Two pings missing means the memberships (or
the receiver) are gone: it restarts the receiver, adds every group again and
reads what it missed from the log. The same loop refreshes memberships before
the layer's ``group_expiry`` and runs the periodic log check.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING

from django_sse.conf import conf
from django_sse.streams import HUBS_GROUP, group_name

if TYPE_CHECKING:
    from django_sse.delivery.state import WatchHost

logger = logging.getLogger("django_sse.delivery.hub")

PING_TYPE = "sse.ping"
PING_INTERVAL = 1.0  # seconds between a hub's pings to itself
PINGS_LOST = 2  # missing pings that mean the memberships are gone
TICK_TIMEOUT = 30.0  # seconds one round may take (an unreachable Redis hangs, not fails)


class Keepalive:
    def __init__(self, hub: WatchHost) -> None:
        self.hub = hub
        self.group = "sse.hub." + secrets.token_hex(8)
        self.need_rejoin = False
        self._sent = 0
        self._back = 0
        self._expiry = 86400.0  # seconds: the layer's group_expiry, read when run
        self._refreshed = self._resynced = 0.0
        self.answered_at = 0.0  # monotonic time a ping of this hub last came back

    def pong(self, number: int) -> None:
        self._back = max(self._back, number)
        self.answered_at = time.monotonic()

    async def run(self) -> None:
        self._expiry = float(getattr(self.hub.layer, "group_expiry", 86400))
        self._refreshed = self._resynced = time.monotonic()
        await self._add_own_group()
        while True:
            await asyncio.sleep(min(PING_INTERVAL, conf.SSE_RESYNC_INTERVAL))
            try:
                async with asyncio.timeout(TICK_TIMEOUT):
                    await self._tick()
            except Exception:
                self.need_rejoin = True
                logger.warning("hub keepalive failed; will retry", exc_info=True)

    async def _tick(self) -> None:
        now = time.monotonic()
        if self._sent - self._back >= PINGS_LOST:
            if now - self.hub.received_at < PINGS_LOST * PING_INTERVAL:
                # The receiver is busy, not deaf: a full channel dropped the pings
                # (and perhaps rings). The log has whatever was dropped.
                self._back = self._sent
                self.hub.counters["pings_dropped"] += 1
                await self.hub.resync()
            else:
                self._lost()
        if self.need_rejoin or now - self._refreshed > self._expiry / 2:
            await self.rejoin()
            self._refreshed = self._resynced = now
        elif now - self._resynced > conf.SSE_RESYNC_INTERVAL:
            await self.hub.resync()
            self._resynced = now
        await self._ping()

    def _lost(self) -> None:
        self.hub.counters["pings_lost"] += 1
        logger.warning("hub pings lost: restarting the receiver and rejoining groups")
        self._back = self._sent
        self.need_rejoin = True
        self.hub.restart_receiver()

    async def _ping(self) -> None:
        self._sent += 1
        await self.hub.layer.group_send(self.group, {"type": PING_TYPE, "n": self._sent})

    async def _add_own_group(self) -> None:
        assert self.hub.channel is not None
        try:
            await self.hub.groups.add(self.group, self.hub.channel)
        except Exception:
            self.need_rejoin = True

    async def rejoin(self) -> None:
        """Add every group again (idempotent), then fetch from the log what was missed."""
        groups = [self.group, HUBS_GROUP, *(group_name(name) for name in self.hub.stream_names())]
        assert self.hub.channel is not None
        await self.hub.groups.add_all(groups, self.hub.channel)
        self.need_rejoin = False
        self.hub.counters["rejoins"] += 1
        self.hub.layer_back()
        await self.hub.resync()
