"""Bulk and single publishers in processes of their own, against real servers."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, finish
from tests.sse_client import Client, EventReader
from tests.test_log import read_log

pytestmark = [pytest.mark.e2e]
EACH = 150  # events per publisher
USERS = 24  # streams of the end-to-end bulk test


async def nothing_more(reader: EventReader, wait: float = 1.0) -> bool:
    try:
        await reader.until(lambda r: bool(r._ready), wait)
    except TimeoutError:
        return True
    return False


@pytest.mark.parametrize(
    "database", ["sqlite_backend", pytest.param("postgres_backend", marks=pytest.mark.postgres)]
)
def test_bulk_and_single_publishers_keep_one_stream_dense_and_in_order(
    database: str, request: pytest.FixtureRequest
) -> None:
    backend: Backend = request.getfixturevalue(database)
    topic = f"mixed-{uuid.uuid4().hex[:6]}"
    kinds = ["topic", "bulk", "topic", "bulk"]
    processes = [backend.publisher(k, topic, EACH, f"p{n}") for n, k in enumerate(kinds)]
    returned = {f"p{n}": finish(p) for n, p in enumerate(processes)}
    log = read_log(backend, f"topic:{topic}")
    assert [seq for seq, _ in log] == list(range(1, len(kinds) * EACH + 1))
    by_tag: dict[str, list[tuple[int, int]]] = {}
    for seq, data in log:
        event = json.loads(data)
        by_tag.setdefault(event["tag"], []).append((event["i"], seq))
    for tag, seqs in returned.items():
        assert seqs == sorted(seqs)  # each publisher's numbers rise with its calls
        assert [seq for _, seq in by_tag[tag]] == seqs
        assert [i for i, _ in by_tag[tag]] == list(range(EACH))


@pytest.mark.postgres
async def test_one_bulk_call_reaches_every_user_stream_on_two_servers_once(
    postgres_backend: Backend, redis_layer: str, start_server: ServerFactory
) -> None:
    backend = postgres_backend.with_layer(redis_layer)
    servers = [start_server(backend) for _ in range(2)]
    clients = [Client(servers[i % 2].url) for i in range(USERS)]
    tag = uuid.uuid4().hex[:6]
    pks = [await c.login(f"bulk-{tag}-{i}") for i, c in enumerate(clients)]
    streams = [c.stream() for c in clients]
    readers: list[EventReader] = [await s.__aenter__() for s in streams]
    try:
        for server in servers:
            async with Client(server.url) as probe:
                await probe.wait_hub(subscriptions=USERS // 2, timeout=20)
        publisher = backend.publisher("users", ",".join(map(str, pks)), 0, tag)
        seqs = await asyncio.to_thread(finish, publisher)
        assert seqs == [1] * USERS
        for reader in readers:
            (event,) = await reader.events(1, timeout=20)
            assert json.loads(event.data) == {"tag": tag}
        # A repeat would come from the other server's hub or a resync: give it time.
        assert await asyncio.gather(*(nothing_more(r) for r in readers)) == [True] * USERS
    finally:
        for s in streams:
            await s.__aexit__(None, None, None)
        for c in clients:
            await c.http.aclose()
