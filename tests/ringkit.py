"""A channel layer that records what the ringer sends, for the publish tests."""

from __future__ import annotations

import asyncio
from typing import Any

import django_sse


class RecordingLayer:
    """Stands in for the channel layer: records rings, or fails like a dead Redis."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self._sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("Redis is restarting")
        self._sent.append((group, message))

    @property
    def sent(self) -> list[tuple[str, dict[str, Any]]]:
        """What reached the layer, once every queued ring has left (sync tests)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            assert django_sse.flush(5.0)
        return self._sent

    @property
    def rings(self) -> list[tuple[str, str, int | None, bytes]]:
        """(group, stream, seq, frame) of every event sent, batches taken apart."""
        out = []
        for group, message in self.sent:
            if message["type"] == "sse.event":
                out.append((group, message["stream"], message["seq"], message["frame"]))
            elif message["type"] == "sse.events":
                frames = message["frames"]
                out += [(group, s, q, frames[i]) for s, q, i in message["items"]]
        return out


async def settled() -> None:
    """Wait, from async code, until every queued ring has left the publisher loop."""
    assert await asyncio.to_thread(django_sse.flush, 5.0)
