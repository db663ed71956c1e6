"""The health endpoints in real daphne processes: live and ready on a working site,
not ready (naming what failed) through a Redis outage and a database outage, ready
again after each; what they refuse."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.redis_servers import RedisServer, redis_server_installed
from tests.services import (
    Backend,
    need,
    pg_connect,
    wait_until,
)

pytestmark = pytest.mark.e2e
LIVE, READY = "/events/health/live/", "/events/health/ready/"


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def readiness(server: Any) -> tuple[int, dict[str, str]]:
    answer = get(server.url + READY)
    return answer.status_code, answer.json()["checks"]


def test_a_working_site_is_live_and_ready_at_once(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend)
    live = get(server.url + LIVE)
    assert (live.status_code, live.json()) == (200, {"status": "live"})
    assert "no-cache" in live.headers["Cache-Control"]
    started = time.monotonic()
    ready = get(server.url + READY)  # the first probe starts the hub: one ping's wait
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "checks": {"database": "ok", "layer": "ok"}},
    )
    assert time.monotonic() - started < 5
    assert readiness(server) == (200, {"database": "ok", "layer": "ok"})


def test_the_health_endpoints_refuse_what_is_not_a_probe(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend)
    for path in (LIVE, READY):
        refused = httpx.post(server.url + path, timeout=10)
        assert refused.status_code == 405
        assert set(refused.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
        assert httpx.head(server.url + path, timeout=10).status_code == 200


def test_a_redis_outage_is_not_ready_and_its_end_is_ready_again(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    need("redis-server", redis_server_installed())
    redis = RedisServer().start()
    try:
        server = start_server(sqlite_backend.with_layer(f"redis:health@{redis.port}"))
        assert readiness(server) == (200, {"database": "ok", "layer": "ok"})
        redis.kill()
        status, checks = wait_until(lambda: (r := readiness(server))[0] == 503 and r, timeout=20)
        assert checks["database"] == "ok"
        assert "pings" in checks["layer"]
        redis.start()  # the same port: the hub reconnects, rejoins and hears itself again
        wait_until(lambda: readiness(server) == (200, {"database": "ok", "layer": "ok"}), 30)
    finally:
        redis.kill()


def test_a_database_outage_is_not_ready_and_its_end_is_ready_again(
    postgres_backend: Backend, start_server: ServerFactory
) -> None:
    name = postgres_backend.db.partition(":")[2]
    server = start_server(postgres_backend)
    assert readiness(server) == (200, {"database": "ok", "layer": "ok"})
    with pg_connect() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    try:
        status, checks = wait_until(lambda: (r := readiness(server))[0] == 503 and r, timeout=20)
        assert checks["layer"] == "ok"
        assert checks["database"].startswith(("OperationalError", "InterfaceError"))
    finally:
        with pg_connect() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    wait_until(lambda: readiness(server) == (200, {"database": "ok", "layer": "ok"}), 20)
