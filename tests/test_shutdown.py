"""SIGTERM ends every stream cleanly, with a short retry, before the server stops."""

from __future__ import annotations

import re
import signal

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, wait_until
from tests.sse_client import Client, broadcast


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_sigterm_ends_streams_cleanly_with_a_short_retry(
    kind: str, sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, kind)
    async with Client(server.url) as client, client.stream() as reader:
        await client.wait_hub(subscriptions=1)
        await client.publish(broadcast("before"))
        (before,) = await reader.events(1)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        await reader.read_to_end(timeout=10)
    assert reader.closed
    last_retry = re.findall(rb"retry: (\d+)\n\n", reader.raw)[-1]
    assert 100 <= int(last_retry) <= 1000
    assert before.data == "before"
    wait_until(lambda: server.process is not None and server.process.poll() is not None)
