"""Through a real nginx running docs/deploy.md's config: streaming is not buffered, the
heartbeat outlasts ``proxy_read_timeout``, recovery works, the per-address cap sees the
real client, and two processes behind one upstream deliver every event once."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.nginx import Nginx, nginx_installed
from tests.services import Backend, Server, need
from tests.sse_client import Client, broadcast

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 2.0  # seconds: nginx's proxy_read_timeout in these tests


@pytest.fixture
def start_nginx() -> Iterator[Any]:
    need("nginx", nginx_installed())
    started: list[Nginx] = []

    def start(*servers: Server) -> Nginx:
        proxy = Nginx(list(servers), read_timeout=f"{READ_TIMEOUT:g}s").start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_events_pass_at_once_and_an_idle_stream_outlives_the_read_timeout(
    kind: str, sqlite_backend: Backend, start_server: ServerFactory, start_nginx: Any
) -> None:
    server = start_server(sqlite_backend, kind, SSE_HEARTBEAT_INTERVAL=0.5)
    proxy = start_nginx(server)
    async with Client(proxy.url) as client, client.stream() as reader:
        assert reader.response.headers["content-type"] == "text/event-stream"
        await client.wait_hub(subscriptions=1)
        await client.publish(broadcast("small"))  # a buffering proxy would sit on it
        (first,) = await reader.events(1, timeout=5)
        await asyncio.sleep(READ_TIMEOUT * 2)  # idle but for heartbeats
        await client.publish(broadcast("later"))
        (second,) = await reader.events(1, timeout=5)
        assert not reader.closed
    assert (first.data, second.data) == ("small", "later")
    assert reader.comments.count("") >= 3  # the heartbeats that kept it open


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_client_that_drops_resumes_exactly_through_nginx(
    kind: str, sqlite_backend: Backend, start_server: ServerFactory, start_nginx: Any
) -> None:
    proxy = start_nginx(start_server(sqlite_backend, kind))
    tag = uuid.uuid4().hex[:6]
    async with Client(proxy.url) as client:
        async with client.stream() as reader:
            await reader.until(lambda r: r.last_id)  # the first chunk: a cursor, no event
            kept = reader.last_id
        await client.wait_hub(subscriptions=0)
        await client.publish(*[broadcast(f"{tag}-{i}") for i in range(3)])
        async with client.stream(last_event_id=kept) as reader:
            missed = await reader.events(3)
    assert [e.data for e in missed] == [f"{tag}-{i}" for i in range(3)]


async def open_from(address: str, port: int) -> tuple[asyncio.StreamWriter, bytes]:
    """A raw stream from the local address ``address``: the writer and its first chunk."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    writer.write(b"GET /events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    first = b""
    async with asyncio.timeout(10):
        while not re.search(rb"\n: [^\n]*\n\n", first):  # up to its comment
            first += await reader.read(4096)
    return writer, first


async def test_the_per_address_cap_counts_each_client_behind_nginx(
    sqlite_backend: Backend, start_server: ServerFactory, start_nginx: Any
) -> None:
    server = start_server(
        sqlite_backend, SSE_MAX_CONNECTIONS_PER_IP=2, SSE_TRUSTED_PROXIES=["127.0.0.1"]
    )
    proxy = start_nginx(server)
    writers = []
    try:
        answers = []
        for address in ("127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"):
            writer, first = await open_from(address, proxy.port)
            writers.append(writer)
            answers.append(first)
    finally:
        for writer in writers:
            writer.close()
    served = [b": connected" in a for a in answers]
    assert served == [True, True, False, True]  # the third of one client; another is fine
    assert b"too many open connections for ip:127.0.0.2" in answers[2]


@pytest.mark.postgres
async def test_two_processes_behind_one_upstream_deliver_every_event_once(
    postgres_backend: Backend, redis_layer: str, start_server: ServerFactory, start_nginx: Any
) -> None:
    backend = postgres_backend.with_layer(redis_layer)
    one, two = start_server(backend), start_server(backend)
    proxy = start_nginx(one, two)
    tag = uuid.uuid4().hex[:6]
    clients = [Client(proxy.url) for _ in range(6)]
    streams = [c.stream() for c in clients]
    readers = [await s.__aenter__() for s in streams]
    try:
        for reader in readers:
            await reader.until(lambda r: r.last_id)
        counts = []
        for server in (one, two):
            async with Client(server.url) as direct:
                counts.append((await direct.hub())["subscriptions"])
        assert sum(counts) == 6 and min(counts) >= 1  # round robin: both processes serve
        async with Client(proxy.url) as publisher:
            await publisher.publish(*[broadcast(f"{tag}-{i}") for i in range(20)])
        got = [await reader.events(20, timeout=15) for reader in readers]
    finally:
        for stream in streams:
            await stream.__aexit__(None, None, None)
        for client in clients:
            await client.__aexit__(None, None, None)
    for events in got:
        assert [e.data for e in events] == [f"{tag}-{i}" for i in range(20)]
        assert len({e.id for e in events}) == 20
