from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from django_sse.delivery import ringer
from django_sse.delivery.hub import Hub
from tests.hubkit import FlakyLayer
from tests.ringkit import RecordingLayer
from tests.services import (
    Backend,
    Server,
    need,
    postgres_available,
    postgres_database,
    redis_available,
)

ServerFactory = Callable[..., Server]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts a real server is end-to-end (``-m e2e``), one that drives
    Chromium is a browser test (``-m browser``), whatever its file."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "start_server" in fixtures:
            item.add_marker(pytest.mark.e2e)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def sqlite_backend() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="django-sse-e2e-") as folder:
        backend = Backend(f"sqlite:{Path(folder) / 'db.sqlite3'}")
        backend.manage("migrate", "--noinput")
        yield backend


@pytest.fixture(scope="session")
def postgres_backend() -> Iterator[Backend]:
    need("PostgreSQL", postgres_available())
    with postgres_database() as name:
        backend = Backend(f"postgres:{name}")
        backend.manage("migrate", "--noinput")
        yield backend


@pytest.fixture
def redis_layer() -> str:
    """A Redis channel layer with a prefix of its own, so tests never cross."""
    need("Redis", redis_available())
    return f"redis:sse{uuid.uuid4().hex[:8]}"


@pytest.fixture
def start_server() -> Iterator[ServerFactory]:
    """Start real server processes; all are stopped after the test."""
    started: list[Server] = []

    def start(backend: Backend, kind: str = "daphne", **overrides: Any) -> Server:
        server = Server(backend, kind, **overrides).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def daphne(sqlite_backend: Backend, start_server: ServerFactory) -> Server:
    """daphne on SQLite + the in-memory layer, with short intervals for tests."""
    return start_server(sqlite_backend, SSE_HEARTBEAT_INTERVAL=0.3, SSE_RESYNC_INTERVAL=0.5)


@pytest.fixture(params=["memory", "redis", "redispubsub"])
def layered_server(request: pytest.FixtureRequest, start_server: ServerFactory) -> Server:
    """daphne on SQLite + in-memory layer, then on PostgreSQL + channels-redis (both layers)."""
    overrides = {"SSE_HEARTBEAT_INTERVAL": 0.3, "SSE_RESYNC_INTERVAL": 0.5}
    if request.param == "memory":
        return start_server(request.getfixturevalue("sqlite_backend"), **overrides)
    backend: Backend = request.getfixturevalue("postgres_backend")
    layer: str = request.getfixturevalue("redis_layer")
    if request.param == "redispubsub":
        layer = layer.replace("redis:", "redispubsub:", 1)
    return start_server(backend.with_layer(layer), **overrides)


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    """The ringer sends to a recording layer instead of the configured one."""
    recorder = RecordingLayer()
    monkeypatch.setattr(ringer, "get_channel_layer", lambda alias: recorder)
    return recorder


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    """A hub of its own on an in-memory layer that can be made to fail."""
    hub = Hub(FlakyLayer(), asyncio.get_running_loop())
    yield hub
    for task in list(hub._tasks):
        task.cancel()
    await asyncio.gather(*hub._tasks, return_exceptions=True)
