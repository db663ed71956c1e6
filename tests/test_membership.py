"""A hub's memberships, a few at a time: thousands of groups rejoined through a real
channels-redis (whose redis-py pool refuses commands past its size rather than wait),
never more than ``SLOTS`` in flight, and a failure raised only after every join ran."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

from django_sse.delivery import membership
from django_sse.delivery.membership import Memberships
from tests.services import need, redis_available


class CountingLayer(InMemoryChannelLayer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.in_flight = self.most = 0
        self.refuse = ""

    async def group_add(self, group: str, channel: str) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if group == self.refuse:
                raise ConnectionError(f"refused {group}")
            await super().group_add(group, channel)
        finally:
            self.in_flight -= 1


async def test_no_more_than_its_slots_are_in_flight() -> None:
    layer = CountingLayer()
    groups = [f"sse.topic.t{i}" for i in range(500)]
    await Memberships(layer).add_all(groups, "hub-channel")
    assert layer.most == membership.SLOTS
    assert set(layer.groups) == set(groups)


async def test_a_refused_join_is_raised_after_every_other_join_ran() -> None:
    layer = CountingLayer()
    layer.refuse = "sse.topic.t3"
    groups = [f"sse.topic.t{i}" for i in range(50)]
    with pytest.raises(ConnectionError, match="refused sse.topic.t3"):
        await Memberships(layer).add_all(groups, "hub-channel")
    assert set(layer.groups) == set(groups) - {"sse.topic.t3"}


async def test_a_join_that_hangs_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hanging(InMemoryChannelLayer):  # type: ignore[misc]
        async def group_add(self, group: str, channel: str) -> None:
            await asyncio.sleep(60)

    monkeypatch.setattr(membership, "LAYER_TIMEOUT", 0.05)
    with pytest.raises(TimeoutError):
        await Memberships(Hanging()).add("sse.broadcast", "hub-channel")


async def test_thousands_of_groups_rejoin_through_channels_redis() -> None:
    need("Redis", redis_available())
    layer = RedisChannelLayer(
        hosts=[{"address": "redis://127.0.0.1:6379/0", "socket_timeout": None}],
        prefix=f"sse{uuid.uuid4().hex[:8]}",
    )
    channel = await layer.new_channel()
    groups = [f"sse.user.{i}" for i in range(2000)]
    try:
        await Memberships(layer).add_all(groups, channel)  # past the pool's 100 connections
        await layer.group_send(groups[-1], {"type": "sse.ping", "n": 1})
        assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "sse.ping", "n": 1}
    finally:
        await layer.flush()
