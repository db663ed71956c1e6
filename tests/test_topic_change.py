"""A page that changes its topics keeps its place in the streams it keeps: with
``?from_topic=`` naming the topics its cursor was issued for, the kept streams replay
what was missed, a new topic starts live, and nothing is reset; what it refuses."""

from __future__ import annotations

import pytest

from tests.services import Server
from tests.sse_client import Client, broadcast, to_topic

pytestmark = pytest.mark.e2e


async def test_adding_and_removing_topics_keeps_the_other_streams_places(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        await client.login("mover")
        async with client.stream({"topic": "open-a"}) as first:
            await client.wait_hub(subscriptions=1)
            await client.publish(to_topic("open-a", "a1"), broadcast("b1"))
            *_, last = await first.events(2)
        await client.publish(to_topic("open-a", "a2"), broadcast("b2"), to_topic("open-b", "x"))
        moved = {"topic": ["open-a", "open-b"], "from_topic": ["open-a"]}
        async with client.stream(moved, last_event_id=last.id) as second:
            assert sorted(e.data for e in await second.events(2)) == ["a2", "b2"]  # no reset
            await client.wait_hub(subscriptions=1)
            await client.publish(to_topic("open-b", "b-live"), to_topic("open-a", "a3"))
            *_, last = events = await second.events(2)
            assert [e.data for e in events] == ["b-live", "a3"]  # open-b: from now on
        await client.publish(broadcast("b3"), to_topic("open-a", "gone"))
        removed = {"from_topic": ["open-a", "open-b"]}
        async with client.stream(removed, last_event_id=last.id) as third:
            (event,) = await third.events(1)
            assert (event.event, event.data) == ("message", "b3")


async def test_what_it_refuses(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        await client.login("mover2")
        async with client.stream({"topic": "open-a"}) as first:
            await client.wait_hub(subscriptions=1)
            await client.publish(to_topic("open-a", "a1"))
            (last,) = await first.events(1)
        bad = await client.http.get(
            "/events/", params={"from_topic": "not a topic!"}, headers={"Accept": "*/*"}
        )
        assert bad.status_code == 400 and "invalid topic name" in bad.text
        # A from_topic the cursor does not belong to: the cursor is invalid, as before.
        wrong = {"topic": ["open-b"], "from_topic": ["open-c"]}
        async with client.stream(wrong, last_event_id=last.id) as reader:
            (event,) = await reader.events(1)
            assert event.event == "sse:reset" and event.data == '{"reason": "invalid"}'
