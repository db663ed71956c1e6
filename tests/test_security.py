"""Limits, logout, CORS and content negotiation through real servers."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import ServerFactory
from tests.services import Backend, Server
from tests.sse_client import Client, broadcast

ORIGIN = "https://app.example.com"


async def test_non_sse_accept_answers_406(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        response = await client.http.get("/events/", headers={"Accept": "application/json"})
        assert response.status_code == 406
        for accept in ("text/event-stream", "*/*", "text/*"):
            response = await client.http.head("/events/", headers={"Accept": accept})
            assert response.status_code == 200


async def test_cors_answers_only_allowed_origins_exactly(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, SSE_CORS_ALLOWED_ORIGINS=[ORIGIN])
    async with Client(server.url) as client:
        allowed = await client.http.head("/events/", headers={"Origin": ORIGIN})
        other = await client.http.head("/events/", headers={"Origin": "https://evil.example"})
        preflight = await client.http.options("/events/", headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 204
    assert (
        preflight.headers["access-control-allow-headers"]
        == "Last-Event-ID, Cache-Control, Authorization"
    )


async def test_cors_is_off_by_default(daphne: Server) -> None:
    async with Client(daphne.url) as client:
        response = await client.http.head("/events/", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


async def test_per_user_cap_holds_under_a_burst(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, SSE_MAX_CONNECTIONS_PER_USER=3)
    username = f"cap{uuid.uuid4().hex[:8]}"
    clients = [Client(server.url) for _ in range(12)]
    for client in clients:  # twelve browsers (sessions) of one user
        await client.login(username)
    streams = [asyncio.create_task(open_and_hold(client)) for client in clients]
    try:
        async with asyncio.timeout(20):
            while sum(task.done() for task in streams) < 9:
                await asyncio.wait(streams, return_when=asyncio.FIRST_COMPLETED)
        async with Client(server.url) as probe:
            stats = await probe.wait_hub(subscriptions=3)
        refused = [task.result() for task in streams if task.done()]
    finally:
        for task in streams:
            task.cancel()
        for client in clients:
            await client.__aexit__()
    assert len(refused) == 9
    assert stats["subscriptions"] == 3
    for raw in refused:
        assert raw.startswith(b"retry: 30000\n\n: too many open connections for user:")


async def open_and_hold(client: Client) -> bytes:
    """The first bytes of a stream; a refused one ends by itself, a live one is held."""
    async with client.stream() as reader:
        await reader.until(lambda r: r.raw.endswith(b"\n\n"))
        if b"too many" in reader.raw:
            await reader.read_to_end()
            return reader.raw
        await asyncio.Event().wait()  # held open until the test cancels it
    raise AssertionError("unreachable")


async def test_logout_closes_that_sessions_streams_on_every_process(
    postgres_backend: Backend, redis_layer: str, start_server: ServerFactory
) -> None:
    backend = postgres_backend.with_layer(redis_layer)
    urls = {"ROOT_URLCONF": "tests.server.security_urls"}
    one, two = start_server(backend, **urls), start_server(backend, **urls)
    username = f"out{uuid.uuid4().hex[:8]}"
    async with Client(one.url) as browser, Client(one.url) as other_device:
        await browser.login(username)
        await other_device.login(username)
        on_two = Client(two.url)
        on_two.http.cookies = browser.http.cookies
        async with browser.stream() as a, on_two.stream() as b, other_device.stream() as c:
            await browser.wait_hub(subscriptions=2)
            await on_two.wait_hub(subscriptions=1)
            response = await browser.http.post("/test/logout/")
            assert response.status_code == 200
            await a.read_to_end()
            await b.read_to_end()
            await browser.publish(broadcast("still here"))
            (still,) = await c.events(1)
        await on_two.__aexit__()
    assert a.closed and b.closed
    assert still.data == "still here"
