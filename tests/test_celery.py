"""The demo's background export on a real Celery worker (Redis broker, channels-redis):
the task reports progress and notifies its owner through django-sse's public API, and a
logged-in Chromium sees the bar reach 100% and the notification, once."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    DemoBackend,
    DemoServer,
    browser_fixture,
    demo_backend_fixture,
    demo_database_fixture,
    log_in,
    new_context_fixture,
    state_is,
)
from tests.services import ROOT, need, redis_available, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.redis]
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def celery_overrides() -> dict[str, Any]:
    need("Redis", redis_available())
    run = uuid.uuid4().hex[:8]  # a queue and layer prefix of this test's own
    layer = {"hosts": [{"address": f"{REDIS}/0", "socket_timeout": None}], "prefix": run}
    return {
        "CELERY_BROKER_URL": f"{REDIS}/1",
        "CELERY_TASK_DEFAULT_QUEUE": f"demo-{run}",
        "CHANNEL_LAYERS": {
            "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": layer}
        },
        "SSE_HEARTBEAT_INTERVAL": 0.3,
        "DEMO_STEP_DELAY": 0.02,
    }


@pytest.fixture
def worker(
    demo_backend: DemoBackend, celery_overrides: dict[str, Any], tmp_path: Path
) -> Iterator[Path]:
    """A Celery worker of the demo, on a queue of this test's own; yields its log."""
    path = tmp_path / "celery-worker.log"
    log = open(path, "wb")  # noqa: SIM115 - the child keeps writing to it
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "demo_project", "worker"),
            *("--pool", "solo", "-Q", celery_overrides["CELERY_TASK_DEFAULT_QUEUE"]),
            *("--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "info"),
        ],
        env=demo_backend.env(**celery_overrides),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: b"ready." in path.read_bytes(), timeout=30)
        yield path
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_a_celery_task_reports_progress_and_notifies_its_owner(
    demo_backend: DemoBackend,
    celery_overrides: dict[str, Any],
    worker: Path,
    new_context: Any,
) -> None:
    server = DemoServer(demo_backend, **celery_overrides)
    server.start()
    try:
        page = log_in(new_context, server, "alice")
        page.get_by_role("link", name="Job", exact=True).click()
        expect(page.locator(".hint").first).to_contain_text("a Celery worker")
        page.get_by_role("button", name="Start an export").click()
        state_is(page, "open")
        job = page.locator("#job")
        expect(job).to_have_attribute("data-status", "succeeded")
        expect(job.locator(".bar")).to_have_attribute("aria-valuenow", "100")
        expect(job.locator("[data-message]")).to_have_text("Exported 100 records")
        expect(page.locator(".toast")).to_have_text(["aliceYour export of 100 records is ready."])
        expect(page.locator("#unread")).to_have_text("1")
        assert b"Task demo_project.tasks.export_records[" in worker.read_bytes()  # not a thread
    finally:
        server.stop()
