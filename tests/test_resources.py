"""An idle open stream holds no thread and no database connection."""

from __future__ import annotations

import asyncio

from django_sse.delivery.db import DB_THREADS
from tests.conftest import ServerFactory
from tests.services import Backend, pg_connect
from tests.sse_client import Client

STREAMS = 200


async def open_raw_stream(port: int, cookie: str, topic: str) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /events/?topic={topic} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b": connected\n\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return writer


def server_connections(database: str) -> list[str]:
    with pg_connect(database) as conn:
        rows = conn.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            (database, "django_sse_e2e"),
        ).fetchall()
    return [str(state) for (state,) in rows]


async def test_idle_streams_hold_few_threads_and_only_the_database_threads_connections(
    postgres_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(
        postgres_backend, SSE_HEARTBEAT_INTERVAL=0.5, SSE_MAX_CONNECTIONS_PER_USER=STREAMS
    )
    database = postgres_backend.db.partition(":")[2]
    async with Client(server.url) as client:
        await client.login("resources")
        cookie = "; ".join(f"{k}={v}" for k, v in client.http.cookies.items())
        writers = await asyncio.gather(
            *[open_raw_stream(server.port, cookie, f"open-{i % 7}") for i in range(STREAMS)]
        )
        try:
            await client.wait_hub(subscriptions=STREAMS, timeout=30)
            # Streams still starting read the log briefly; then only django-sse's
            # database threads keep a connection each, idle, however many streams.
            async with asyncio.timeout(10):
                while len(connections := server_connections(database)) > DB_THREADS:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # idle for two heartbeats: no more
            connections = server_connections(database)
            threads = server.threads()
        finally:
            for writer in writers:
                writer.close()
        await client.wait_hub(subscriptions=0, timeout=30)
    assert len(connections) <= DB_THREADS and set(connections) <= {"idle"}, connections
    assert threads < 20, threads
