"""Live revocation across two real daphne processes on Redis: ``revoke(user, topic)``
takes the topic out of that user's connections on both, at once, and nothing of it is
delivered after; their other streams and other users go on; ``revoke_topic`` takes it
from everyone; what the functions refuse."""

from __future__ import annotations

import json
import time

import pytest
from django.test import override_settings

import django_sse
from tests.conftest import ServerFactory
from tests.services import Backend
from tests.sse_client import Client, EventReader, broadcast, to_topic, to_user


async def until_sentinel(reader: EventReader, sentinel: str) -> list[tuple[str, str]]:
    got: list[tuple[str, str]] = []
    while True:
        (event,) = await reader.events(1, timeout=20)
        if event.data == sentinel:
            return got
        got.append((event.event, event.data))


@pytest.mark.e2e
async def test_a_revoked_topic_stops_on_every_process_and_nothing_else_does(
    postgres_backend: Backend, redis_layer: str, start_server: ServerFactory
) -> None:
    backend = postgres_backend.with_layer(redis_layer)
    one = start_server(backend, SSE_HEARTBEAT_INTERVAL=0.3)
    two = start_server(backend, SSE_HEARTBEAT_INTERVAL=0.3)
    room = {"topic": ["open-r", "open-kept"]}
    async with (
        Client(one.url) as ann_one,
        Client(two.url) as ann_two,
        Client(one.url) as bob,
    ):
        ann_pk = await ann_one.login("revoke-ann")
        await ann_two.login("revoke-ann")
        await bob.login("revoke-bob")
        async with (
            ann_one.stream(room) as a1,
            ann_two.stream(room) as a2,
            bob.stream(room) as b,
        ):
            await ann_one.wait_hub(subscriptions=2)
            await ann_two.wait_hub(subscriptions=1)
            sent = time.monotonic()
            answer = await bob.http.post("/test/revoke/", json={"user": ann_pk, "topic": "open-r"})
            answer.raise_for_status()
            took = []
            for reader in (a1, a2):
                (notice,) = await reader.events(1)
                took.append(time.monotonic() - sent)
                assert notice.event == "sse:revoked"
                assert json.loads(notice.data) == {"stream": "topic:open-r", "topic": "open-r"}
            await bob.publish(
                to_topic("open-r", "r"),
                to_topic("open-kept", "kept"),
                to_user(ann_pk, "for ann"),
                broadcast("end"),
            )
            for reader in (a1, a2):  # the rest of ann's streams go on, open-r never again
                assert await until_sentinel(reader, "end") == [
                    ("message", "kept"),
                    ("message", "for ann"),
                ]
            assert await until_sentinel(b, "end") == [("message", "r"), ("message", "kept")]

            await bob.http.post("/test/revoke/", json={"user": None, "topic": "open-kept"})
            (notice,) = await b.events(1)
            assert json.loads(notice.data)["topic"] == "open-kept"
            for reader in (a1, a2):
                (notice,) = await reader.events(1)
                assert json.loads(notice.data)["topic"] == "open-kept"
            await bob.publish(
                to_topic("open-kept", "k2"), to_topic("open-r", "r2"), broadcast("end2")
            )
            assert await until_sentinel(b, "end2") == [("message", "r2")]
            assert await until_sentinel(a1, "end2") == []
    print(f"\nrevoke: the notice reached both processes' streams in {max(took) * 1000:.0f} ms")


@pytest.mark.django_db
@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_what_revoke_refuses() -> None:
    with pytest.raises(ValueError, match="invalid topic name"):
        django_sse.revoke(1, "not a topic!")
    with pytest.raises(ValueError, match="invalid topic name"):
        django_sse.revoke_topic("")
    with pytest.raises(ValueError, match="invalid user"):
        django_sse.revoke(None, "room")
    with pytest.raises(ValueError, match="anonymous"):
        from django.contrib.auth.models import AnonymousUser

        django_sse.revoke(AnonymousUser(), "room")


async def test_the_sync_functions_refuse_an_event_loop() -> None:
    from django.core.exceptions import SynchronousOnlyOperation

    with pytest.raises(SynchronousOnlyOperation):
        django_sse.revoke(1, "room")
    await django_sse.arevoke_topic("room")  # the async twins work here
    await django_sse.arevoke(1, "room")
