"""Exact recovery: reconnecting with the last id gives exactly what was missed."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, Server
from tests.sse_client import Client, broadcast, to_topic, to_user


def spec_for(kind: str, pk: int, data: object) -> dict[str, object]:
    if kind == "user":
        return to_user(pk, data)
    if kind == "topic":
        return to_topic("open-recovery", data)
    return broadcast(data)


async def recover(server: Server, via: str, kind: str) -> None:
    async with Client(server.url) as client:
        pk = await client.login(f"r{uuid.uuid4().hex[:8]}")
        params = {"topic": "open-recovery"}
        tag = uuid.uuid4().hex[:6]
        async with client.stream(params) as reader:
            await client.wait_hub(subscriptions=1)
            await client.publish(*[spec_for(kind, pk, f"{tag}-{i}") for i in range(5)])
            seen = await reader.events(5)
        await client.wait_hub(subscriptions=0)
        await client.publish(*[spec_for(kind, pk, f"{tag}-{i}") for i in range(5, 12)])
        last = seen[-1].id
        if via == "header":
            resumed = client.stream(params, last_event_id=last)
        else:
            resumed = client.stream({**params, "last_event_id": last})
        async with resumed as reader:
            await client.publish(spec_for(kind, pk, f"{tag}-live"))
            missed = await reader.events(8)
    assert [e.data for e in seen] == [f"{tag}-{i}" for i in range(5)]
    assert [e.data for e in missed] == [f"{tag}-{i}" for i in range(5, 12)] + [f"{tag}-live"]
    assert len({e.id for e in seen + missed}) == 13


@pytest.mark.parametrize("kind", ["user", "broadcast", "topic"])
@pytest.mark.parametrize("via", ["header", "query"])
async def test_reconnect_gets_exactly_the_missed_events(
    layered_server: Server, via: str, kind: str
) -> None:
    await recover(layered_server, via, kind)


@pytest.mark.parametrize("kind", ["user", "broadcast", "topic"])
async def test_a_client_that_saw_no_event_resumes_from_its_first_chunk(
    layered_server: Server, kind: str
) -> None:
    """Connect, get only the first chunk, drop: a reconnect with whatever id the
    stream gave (what a browser or httpx-sse keeps) gets everything published since."""
    async with Client(layered_server.url) as client:
        pk = await client.login(f"r{uuid.uuid4().hex[:8]}")
        params = {"topic": "open-recovery"}
        tag = uuid.uuid4().hex[:6]
        async with client.stream(params) as reader:
            await reader.until(lambda r: r.last_id)
            kept = reader.last_id
        await client.wait_hub(subscriptions=0)
        await client.publish(*[spec_for(kind, pk, f"{tag}-{i}") for i in range(3)])
        async with client.stream(params, last_event_id=kept) as reader:
            missed = await reader.events(3)
    assert [e.data for e in missed] == [f"{tag}-{i}" for i in range(3)]


async def test_a_cursor_in_the_query_becomes_the_clients_own(layered_server: Server) -> None:
    """A stream resumed by ``?last_event_id=`` (the tag's initial cursor) with nothing to
    replay sends that cursor back, so the browser's next reconnect carries the header."""
    async with Client(layered_server.url) as client:
        async with client.stream() as reader:
            await reader.until(lambda r: r.last_id)
            cursor = reader.last_id
        async with client.stream({"last_event_id": cursor}) as reader:
            await reader.until(lambda r: r.last_id)
            assert reader.last_id == cursor
            assert reader._ready == []


async def test_header_wins_over_query_parameter(layered_server: Server) -> None:
    async with Client(layered_server.url) as client:
        async with client.stream() as reader:
            await client.wait_hub(subscriptions=1)
            await client.publish(broadcast("a"), broadcast("b"))
            first, second = await reader.events(2)
        await client.wait_hub(subscriptions=0)
        resumed = client.stream({"last_event_id": "garbage"}, last_event_id=first.id)
        async with resumed as reader:
            (again,) = await reader.events(1)
    assert again.data == "b"
    assert again.id == second.id


@pytest.mark.parametrize("cursor", ["garbage", "x" * 300, "AAAAAA.1", "-", "\u00e9t\u00e9"])
async def test_malformed_cursor_gets_reset_then_live(daphne: Server, cursor: str) -> None:
    async with Client(daphne.url) as client, client.stream({"last_event_id": cursor}) as reader:
        assert reader.response.status_code == 200
        (reset,) = await reader.events(1)
        await client.wait_hub(subscriptions=1)
        await client.publish(broadcast("live"))
        (live,) = await reader.events(1)
    assert reset.event == "sse:reset"
    assert json.loads(reset.data) == {"reason": "invalid"}
    assert live.data == "live"


async def test_cursor_ahead_of_the_log_gets_reset(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        async with client.stream() as reader:
            await client.wait_hub(subscriptions=1)
            await client.publish(broadcast("one"))
            (one,) = await reader.events(1)
        tag, _, position = one.id.partition(".")
        future = f"{tag}.{int(position, 36) + 1000:x}"  # base 16 digits are base 36 digits
        async with client.stream(last_event_id=future) as reader:
            (reset,) = await reader.events(1)
    assert reset.event == "sse:reset"
    assert json.loads(reset.data) == {"reason": "unknown"}


async def test_cursor_older_than_the_log_gets_reset(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, SSE_MAX_EVENTS_PER_STREAM=3)
    topic = f"open-{uuid.uuid4().hex[:8]}"
    async with Client(server.url) as client:
        async with client.stream({"topic": topic}) as reader:
            await client.wait_hub(subscriptions=1)
            await client.publish(to_topic(topic, "first"))
            (first,) = await reader.events(1)
        await client.publish(*[to_topic(topic, i) for i in range(10)])
        pruned = (await client.http.post("/test/prune/")).json()["deleted"]
        assert pruned >= 8
        async with client.stream({"topic": topic}, last_event_id=first.id) as reader:
            (reset,) = await reader.events(1)
            await client.publish(to_topic(topic, "after"))
            (after,) = await reader.events(1)
    assert (reset.event, json.loads(reset.data)) == ("sse:reset", {"reason": "expired"})
    assert after.data == "after"
    assert reset.id != first.id
