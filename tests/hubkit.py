"""In-process helpers for hub and connection tests: a layer that can fail, and waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from channels.layers import InMemoryChannelLayer

from django_sse import models
from django_sse.delivery.db import run_db
from django_sse.delivery.hub import RING_TYPE, Hub
from django_sse.delivery.subscription import Frame, Subscription
from django_sse.wire import encode_event


class FlakyLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """An in-memory layer whose receive fails while ``down`` (a Redis restart)."""

    def __init__(self) -> None:
        super().__init__(capacity=1000)
        self.down = False
        self.broken = asyncio.Event()
        self.group_adds: list[str] = []

    def go_down(self) -> None:
        self.down = True
        self.broken.set()  # a receive in flight fails too, as a dropped socket would

    def come_up(self) -> None:
        self.down = False
        self.broken = asyncio.Event()

    async def receive(self, channel: str) -> dict[str, Any]:
        if self.down:
            await asyncio.sleep(0.01)
            raise ConnectionError("layer down")
        receiving = asyncio.ensure_future(super().receive(channel))
        breaking = asyncio.ensure_future(self.broken.wait())
        try:
            await asyncio.wait([receiving, breaking], return_when=asyncio.FIRST_COMPLETED)
        finally:
            breaking.cancel()
        if not receiving.done():
            receiving.cancel()
            raise ConnectionError("connection lost")
        return receiving.result()  # type: ignore[no-any-return]

    async def group_add(self, group: str, channel: str) -> None:
        if self.down:
            raise ConnectionError("layer down")
        self.group_adds.append(group)
        await super().group_add(group, channel)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


async def collect(sub: Subscription, count: int, timeout: float = 5.0) -> list[Frame]:
    frames: list[Frame] = []
    async with asyncio.timeout(timeout):
        while len(frames) < count:
            await sub.wait(1.0)
            frames.extend(sub.take())
    return frames


async def store(stream: str, *payloads: str) -> list[int]:
    return [await run_db(models.append, stream, "message", p) for p in payloads]


async def ring(hub: Hub, stream: str, seq: int | None, data: str) -> None:
    message = {"type": RING_TYPE, "stream": stream, "seq": seq, "frame": encode_event(data)}
    await hub.layer.group_send("sse." + stream.replace(":", ".", 1), message)
