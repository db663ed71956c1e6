"""Fixtures for the tests that drive headless Chromium (Debian's ``chromium``).

Import the ``*_fixture`` functions a test module uses (pytest registers them by
their ``name``), as the other fixtures live in conftest.py. Playwright drives the system browser; it
never downloads one. Without /usr/bin/chromium the tests skip, except in CI
(``SSE_TEST_REQUIRE_SERVICES``), where they fail.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import Backend, Server, need

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
STATIC_URL = "/test/browser/static/"  # tests/server/browser.py serves it
TIMEOUT = 15_000  # milliseconds Playwright waits for a condition


def need_chromium() -> None:
    """Skip with how-to-install where Chromium is missing; fail in CI."""
    need("Chromium", CHROMIUM.exists())


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Any]:
    """One headless Chromium per test module."""
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(name="new_context")
def new_context_fixture(browser: Any) -> Iterator[Any]:
    """Make browser contexts (separate cookie jars); all closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(name="browser_server")
def browser_server_fixture(sqlite_backend: Backend, start_server: Any) -> Server:
    """daphne for the browser tests: serves the JS file, short heartbeats."""
    server: Server = start_server(sqlite_backend, STATIC_URL=STATIC_URL, SSE_HEARTBEAT_INTERVAL=0.3)
    return server


def reconnected_states(seen: list[str]) -> list[str]:
    """What ``seen`` must be after one or more drops and recoveries.

    A stopping server first ends its streams with a short ``retry:``, so the
    browser may get back in once more before the process is gone.
    """
    drops = max(1, (len(seen) - 2) // 2)
    return ["connecting", "open", *["reconnecting", "open"] * drops]


def restart(server: Server) -> Server:
    """Stop ``server`` and start it again on the same port (daphne reuses it)."""
    server.stop()
    return server.start()


class DemoBackend(Backend):
    """The demo project's settings (tests.demo_settings) on a database of its own."""

    def env(self, **overrides: Any) -> dict[str, str]:
        return {**super().env(**overrides), "DJANGO_SETTINGS_MODULE": "tests.demo_settings"}

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of the demo's database, as the server process wrote them."""
        with sqlite3.connect(self.db.partition(":")[2]) as connection:
            return connection.execute(sql, params).fetchall()


class DemoServer(Server):
    """daphne serving demo_project, as `make demo` does."""

    def command(self) -> list[str]:
        endpoint = f"tcp:port={self.port}:interface=127.0.0.1"
        return [sys.executable, "-m", "daphne", "-e", endpoint, "demo_project.asgi:application"]


@pytest.fixture(scope="module", name="demo_database")
def demo_database_fixture() -> Iterator[Path]:
    """The demo's database, migrated and seeded with alice and bob once per module."""
    with tempfile.TemporaryDirectory(prefix="django-sse-demo-") as folder:
        path = Path(folder) / "seeded.sqlite3"
        seeded = DemoBackend(f"sqlite:{path}")
        seeded.manage("migrate", "--noinput")
        seeded.manage("seed_demo")
        yield path


@pytest.fixture(name="demo_backend")
def demo_backend_fixture(demo_database: Path) -> Iterator[DemoBackend]:
    """A fresh copy of the seeded demo database, for one test."""
    with tempfile.TemporaryDirectory(prefix="django-sse-demo-") as folder:
        path = Path(folder) / "db.sqlite3"
        with sqlite3.connect(demo_database) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
        yield DemoBackend(f"sqlite:{path}")


@pytest.fixture(name="demo_server")
def demo_server_fixture(demo_backend: DemoBackend) -> Iterator[DemoServer]:
    server = DemoServer(
        demo_backend,
        SSE_HEARTBEAT_INTERVAL=0.3,
        SSE_RESYNC_INTERVAL=0.3,
        DEMO_STEP_DELAY=0.05,  # seconds per step of the progress demos (0.12 by hand)
    )
    yield server.start()  # type: ignore[misc]
    server.stop()


DESKTOP = {"width": 1000, "height": 720}
PHONE = {"width": 400, "height": 800}


def log_in(
    new_context: Any,
    server: DemoServer,
    username: str,
    init_script: str = "",
    viewport: dict[str, int] = DESKTOP,
) -> Any:
    """A page of its own browser context, logged in to the demo, its stream open."""
    context = new_context(base_url=server.url, viewport=viewport)
    if init_script:
        context.add_init_script(script=init_script)
    page = context.new_page()
    page.goto("/")  # the login page, as nobody is logged in
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Log in").click()
    state_is(page, "open")
    return page


def state_is(page: Any, state: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("data-sse-state", state)


def screenshot(page: Any, name: str) -> None:
    """Save the whole page as test-artifacts/NAME.png, to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
