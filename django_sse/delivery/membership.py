"""A hub's group memberships in the channel layer: joins and leaves, a few at a time.

channels-redis runs each command on a connection of its pool, and redis-py's pool
refuses a command past its size (100 by default) instead of waiting. A hub that rejoins
thousands of groups at once after a Redis restart or a Sentinel failover, or joins many
streams in a reconnect storm, would be refused most of them, every time. So at most
``SLOTS`` membership commands are in flight per hub; the rest wait their turn, which on
a working Redis costs a fraction of a millisecond each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from channels.layers import BaseChannelLayer

LAYER_TIMEOUT = 5.0  # seconds a group_add/discard may take (an unreachable Redis hangs)
SLOTS = 16  # membership commands in flight per hub


class Memberships:
    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self._slots = asyncio.Semaphore(SLOTS)

    async def add(self, group: str, channel: str) -> None:
        async with self._slots, asyncio.timeout(LAYER_TIMEOUT):
            await self.layer.group_add(group, channel)

    async def discard(self, group: str, channel: str) -> None:
        async with self._slots, asyncio.timeout(LAYER_TIMEOUT):
            await self.layer.group_discard(group, channel)

    async def add_all(self, groups: Iterable[str], channel: str) -> None:
        """Join every group (idempotent); raises the first failure once all have run."""
        results = await asyncio.gather(
            *(self.add(g, channel) for g in groups), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
