"""Presence across two real daphne processes on one database: each answers for both;
a closed stream leaves at once, a process killed with SIGKILL within the TTL; what the
API refuses."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from typing import Any

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_sse import presence
from tests.conftest import ServerFactory
from tests.services import Backend
from tests.sse_client import Client

TTL = 2.0


async def who(url: str, stream: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        answer = await http.get("/test/presence/", params={"stream": stream})
        answer.raise_for_status()
        return dict(answer.json())


async def eventually(url: str, stream: str, expected: dict[str, Any], within: float) -> float:
    """Seconds until ``url`` answers ``expected`` for ``stream``; fails past ``within``."""
    started = time.monotonic()
    while (seen := await who(url, stream)) != expected:
        assert time.monotonic() - started < within, seen
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.e2e
async def test_each_process_answers_for_both_and_a_killed_one_drops_out(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    one = start_server(sqlite_backend, SSE_PRESENCE_TTL=TTL, SSE_HEARTBEAT_INTERVAL=0.3)
    two = start_server(sqlite_backend, SSE_PRESENCE_TTL=TTL, SSE_HEARTBEAT_INTERVAL=0.3)
    async with Client(one.url) as ann, Client(two.url) as ben:
        ann_pk, ben_pk = await ann.login("presence-ann"), await ben.login("presence-ben")
        async with ann.stream(), ben.stream(), ben.stream():
            both = {"users": sorted([ann_pk, ben_pk]), "connections": 3}
            for server in (one, two):
                await eventually(server.url, "broadcast", both, within=3)
            await eventually(one.url, f"user:{ben_pk}", {"users": [ben_pk], "connections": 2}, 3)
            async with ann.stream():  # a fourth connection
                await eventually(two.url, "broadcast", {**both, "connections": 4}, within=3)
            await eventually(two.url, "broadcast", both, within=3)  # closed: gone at once

            two.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            gone = await eventually(
                one.url, "broadcast", {"users": [ann_pk], "connections": 1}, within=2 * TTL + 1
            )
    assert gone <= 2 * TTL + 1


@pytest.mark.django_db
def test_presence_refuses_to_answer_when_it_is_off() -> None:
    with pytest.raises(ImproperlyConfigured, match="SSE_PRESENCE_TTL"):
        presence.users("broadcast")


@pytest.mark.django_db
def test_presence_refuses_an_anonymous_user_and_answers_for_a_pk() -> None:
    from django.contrib.auth.models import AnonymousUser

    with override_settings(SSE_PRESENCE_TTL=TTL):
        assert presence.users("broadcast") == []
        assert presence.connections("topic:none") == 0
        assert presence.is_online(12345) is False
        with pytest.raises(ValueError, match="anonymous"):
            presence.is_online(AnonymousUser())


@pytest.mark.e2e
async def test_a_topic_hears_who_joins_and_leaves_on_any_process(
    postgres_backend: Backend, redis_layer: str, start_server: ServerFactory
) -> None:
    backend = postgres_backend.with_layer(redis_layer)  # ephemeral events cross processes
    settings = {
        "SSE_PRESENCE_TTL": TTL,
        "SSE_PRESENCE_EVENTS": ["open-room-*"],
        "SSE_HEARTBEAT_INTERVAL": 0.3,
    }
    one, two = start_server(backend, **settings), start_server(backend, **settings)
    room = {"topic": "open-room-1"}
    async with Client(one.url) as ann, Client(two.url) as ben, Client(one.url) as ben_here:
        ann_pk = await ann.login("room-ann")
        ben_pk = await ben.login("room-ben")
        await ben_here.login("room-ben")
        seen = {"user": ben_pk, "topic": "open-room-1"}

        async def next_presence(reader: Any) -> tuple[str, dict[str, Any]]:
            (event,) = await reader.events(1, timeout=3 * TTL)
            return event.event, json.loads(event.data)

        async with ann.stream(room) as watcher, ann.stream({"topic": "open-other"}):
            # Its own arrival first: the room hears everyone, itself included.
            assert await next_presence(watcher) == ("sse:join", {**seen, "user": ann_pk})
            async with ben.stream(room):  # on the other process
                assert await next_presence(watcher) == ("sse:join", seen)
                async with ben_here.stream(room):  # a second tab: not a new join
                    await asyncio.sleep(1.5)
                # ... and closing it is not a leave: the first tab is still open
                await asyncio.sleep(1.5)
            assert await next_presence(watcher) == ("sse:leave", seen)
            async with ben.stream(room):
                assert await next_presence(watcher) == ("sse:join", seen)
                two.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                started = time.monotonic()
                assert await next_presence(watcher) == ("sse:leave", seen)
            assert time.monotonic() - started <= 2 * TTL + 1


@override_settings(SSE_PRESENCE_EVENTS=["room-*", "lobby"])
def test_only_named_topics_and_logged_in_users_are_announced() -> None:
    from django_sse.delivery import presence_events

    rows = [
        ("topic:room-1", "7"),
        ("topic:lobby", "8"),
        ("topic:lobby-2", "8"),  # not a match: patterns match the whole name
        ("topic:room-1", ""),  # anonymous
        ("broadcast", "7"),
        ("user:7", "7"),
    ]
    assert presence_events.announced(rows) == {("topic:room-1", "7"), ("topic:lobby", "8")}
