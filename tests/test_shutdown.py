"""SIGTERM ends every stream cleanly, with a short retry, before the server stops."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from django_sse.delivery import shutdown
from tests.conftest import ServerFactory
from tests.services import Backend, Server, wait_until
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


@contextmanager
def started_ignoring_sigint(backend: Backend, kind: str) -> Iterator[Server]:
    """A server started as a shell's `&` starts it: with SIGINT ignored."""
    server = Server(backend, kind)
    server.ignored_signals = (signal.SIGINT,)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def sigint_with_a_stream_open(server: Server, client: Client) -> None:
    await client.wait_hub(subscriptions=1)
    assert server.process is not None
    server.process.send_signal(signal.SIGINT)


async def test_a_signal_daphne_ignores_is_ignored_and_streams_go_on(
    sqlite_backend: Backend,
) -> None:
    """Started from a script with `&`, SIGINT is ignored, by daphne and so by us: no
    drain that never ends."""
    with started_ignoring_sigint(sqlite_backend, "daphne") as server:
        async with Client(server.url) as client, client.stream() as reader:
            await sigint_with_a_stream_open(server, client)
            await asyncio.sleep(1.0)  # past DRAIN_SECONDS
            await client.publish(broadcast("still here"))
            (event,) = await reader.events(1)
            async with client.stream() as again:  # a new stream is served, not sent away
                await again.until(lambda r: r.last_id)
                assert b"shutting down" not in again.raw
        assert event.data == "still here"
        assert server.process is not None and server.process.poll() is None


async def test_uvicorn_handles_sigint_even_when_ignored_and_the_drain_ends_with_it(
    sqlite_backend: Backend,
) -> None:
    """uvicorn installs its own SIGINT handler whatever it inherited: it stops, so we
    drain first, and the process ends."""
    with started_ignoring_sigint(sqlite_backend, "uvicorn") as server:
        async with Client(server.url) as client, client.stream() as reader:
            await sigint_with_a_stream_open(server, client)
            await reader.read_to_end(timeout=10)
        last_retry = re.findall(rb"retry: (\d+)\n\n", reader.raw)[-1]
        assert 100 <= int(last_retry) <= 1000
        wait_until(lambda: server.process is not None and server.process.poll() is not None)


async def test_a_drain_the_server_does_not_follow_gives_up_and_serves_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's handler ran and the process stayed: serve again, drain on the next."""
    loop = asyncio.get_running_loop()
    told: list[int] = []
    calls: list[str] = []
    original = signal.signal(signal.SIGUSR1, lambda signum, frame: told.append(signum))
    monkeypatch.setattr(shutdown, "SIGNALS", (signal.SIGUSR1,))
    monkeypatch.setattr(shutdown, "_installed", {})
    monkeypatch.setattr(shutdown, "DRAIN_SECONDS", 0.01)
    monkeypatch.setattr(shutdown, "GIVE_UP_SECONDS", 0.05)
    try:
        shutdown.install(loop, lambda: calls.append("drain"), lambda: calls.append("resume"))
        for round in (1, 2):
            signal.raise_signal(signal.SIGUSR1)
            async with asyncio.timeout(5):
                while calls.count("resume") < round:
                    await asyncio.sleep(0.01)
            assert told == [signal.SIGUSR1] * round  # the server's own handler ran
        assert calls == ["drain", "resume", "drain", "resume"]
    finally:
        signal.signal(signal.SIGUSR1, original)


def test_an_ignored_signal_gets_no_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    original = signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    monkeypatch.setattr(shutdown, "SIGNALS", (signal.SIGUSR1,))
    monkeypatch.setattr(shutdown, "_installed", {})
    loop = asyncio.new_event_loop()
    try:
        shutdown.install(loop, lambda: None, lambda: None)
        assert signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGUSR1, original)
        loop.close()
