"""The stream endpoint through a real daphne process over real sockets."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, Server
from tests.sse_client import Client, broadcast, to_topic, to_user


def name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


async def test_first_chunk_is_retry_comment_and_cursor_with_stream_headers(
    daphne: Server,
) -> None:
    async with Client(daphne.url) as client, client.stream() as reader:
        assert reader.response.status_code == 200
        assert reader.response.headers["content-type"] == "text/event-stream"
        assert reader.response.headers["cache-control"] == "no-cache"
        assert reader.response.headers["x-accel-buffering"] == "no"
        assert "content-length" not in reader.response.headers
        await reader.until(lambda r: r.last_id)
        assert reader.raw.startswith(b"retry: 3000\n\n: connected\n\nid: ")
        assert reader.retry == 3000
        # An id with no data (httpx-sse keeps it too): a cursor, and no event fired.
        assert reader.raw.split(b"\n\n")[2] == b"id: " + reader.last_id.encode()
        assert reader._ready == []


async def test_user_broadcast_and_topic_events_arrive(layered_server: Server) -> None:
    async with Client(layered_server.url) as client:
        pk = await client.login(name())
        async with client.stream({"topic": "open-news"}) as reader:
            await client.wait_hub(subscriptions=1)
            await client.publish(
                to_user(pk, {"n": 1}, event="notification"),
                broadcast("hello all"),
                to_topic("open-news", "<p>html</p>", event="news"),
                broadcast("ephemeral", persist=False, event="typing"),
            )
            events = await reader.events(4)
    assert [(e.event, e.data) for e in events] == [
        ("notification", '{"n":1}'),
        ("message", "hello all"),
        ("news", "<p>html</p>"),
        ("typing", "ephemeral"),
    ]
    assert events[0].id and events[1].id != events[0].id
    assert events[3].id == events[2].id  # ephemeral: no id of its own


async def test_each_publish_mode_delivers(layered_server: Server) -> None:
    async with Client(layered_server.url) as client, client.stream() as reader:
        await client.wait_hub(subscriptions=1)
        for mode in ("sync", "async", "thread"):
            await client.publish(broadcast(mode, mode=mode))
            await client.publish(broadcast(f"{mode}-live", mode=mode, persist=False))
        events = await reader.events(6)
    assert [e.data for e in events] == [
        "sync",
        "sync-live",
        "async",
        "async-live",
        "thread",
        "thread-live",
    ]


async def test_private_events_reach_only_their_user(layered_server: Server) -> None:
    async with Client(layered_server.url) as alice, Client(layered_server.url) as bob:
        alice_pk = await alice.login(name())
        await bob.login(name())
        async with alice.stream() as a, bob.stream() as b:
            await alice.wait_hub(subscriptions=2)
            await alice.publish(to_user(alice_pk, "for alice"), broadcast("end"))
            assert [e.data for e in await a.events(2)] == ["for alice", "end"]
            assert [e.data for e in await b.events(1)] == ["end"]


async def test_forbidden_topic_answers_403_and_streams_nothing(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        await client.login(name())
        async with client.stream({"topic": "vip-room"}) as reader:
            assert reader.response.status_code == 403
            assert (await reader.response.aread()).startswith(b"Not allowed: topic:vip-room")
        assert (await client.hub())["subscriptions"] == 0


async def test_staff_may_read_the_vip_topic(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        await client.login("vip" + name())
        async with client.stream({"topic": "vip-room"}) as reader:
            assert reader.response.status_code == 200


async def test_anonymous_may_not_read_topics_by_default(daphne: Server) -> None:
    async with Client(daphne.url) as client, client.stream({"topic": "orders"}) as reader:
        assert reader.response.status_code == 403


async def test_anonymous_refused_when_not_allowed(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, SSE_ALLOW_ANONYMOUS=False)
    async with Client(server.url) as client:
        async with client.stream() as reader:
            assert reader.response.status_code == 403
        await client.login(name())
        async with client.stream() as reader:
            assert reader.response.status_code == 200


async def test_bad_topic_names_and_too_many_topics_answer_400(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        for params in ({"topic": "bad name"}, {"topic": [f"open-{i}" for i in range(9)]}):
            async with client.stream(params) as reader:
                assert reader.response.status_code == 400


async def test_other_methods_answer_405_and_head_answers_headers(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = await client.http.request(method, "/events/")
            assert response.status_code == 405
            assert response.headers["allow"] == "GET, HEAD, OPTIONS"
        response = await client.http.head("/events/")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"


async def test_heartbeat_comment_arrives_while_idle(daphne: Server) -> None:
    async with Client(daphne.url) as client, client.stream() as reader:
        await reader.until(lambda r: len(r.comments) >= 3)
        assert reader.comments == ["connected", "", ""]


async def test_disconnect_frees_the_hub(layered_server: Server) -> None:
    async with Client(layered_server.url) as client:
        await client.login(name())
        async with client.stream({"topic": "open-x"}) as reader:
            await reader.until(lambda r: r.comments)
            stats = await client.wait_hub(subscriptions=1)
            assert stats["streams"] == 3
        stats = await client.wait_hub(subscriptions=0, streams=0, leaving=0)


async def test_max_connection_age_closes_cleanly_with_cursor(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, SSE_MAX_CONNECTION_AGE=0.5)
    async with Client(server.url) as client, client.stream() as reader:
        await client.wait_hub(subscriptions=1)
        await client.publish(broadcast("before close"))
        events = await reader.read_to_end()
        assert reader.closed
        assert events[-1].data == "before close"
        await client.wait_hub(subscriptions=0)


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_both_request_paths_serve_a_user_the_same_stream(
    sqlite_backend: Backend, start_server: ServerFactory, kind: str
) -> None:
    """``SSE_FAST_PATH`` on (the default) and off: the same answer, one without thread hops."""
    answers = []
    for fast in (True, False):
        server = start_server(sqlite_backend, kind, SSE_FAST_PATH=fast)
        async with Client(server.url) as client:
            pk = await client.login(name())
            async with client.stream() as reader:
                stats = await client.wait_hub(subscriptions=1)
                await client.publish(to_user(pk, "mine"))
                (event,) = await reader.events(1)
                headers = dict(reader.response.headers)
            await client.wait_hub(subscriptions=0, streams=0)
        for varying in ("date", "server"):
            headers.pop(varying, None)
        taken: int | None = stats["fast_path"]
        answers.append((taken, event.data, reader.raw.partition(b"id:")[0], headers))
    (fast_path, *fast_answer), (slow_path, *slow_answer) = answers
    assert (fast_path, slow_path) == (1, None)
    assert fast_answer == slow_answer
    assert fast_answer[:2] == ["mine", b"retry: 3000\n\n: connected\n\n"]
