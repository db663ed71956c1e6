"""A server that stays down is not stampeded: real Chromium backs off once a
reconnect fails, and resumes at the server's own pace once it is back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    browser_fixture,
    browser_server_fixture,
    new_context_fixture,
    restart,
)
from tests.services import Server
from tests.sse_client import broadcast
from tests.test_browser import EVENTS, open_tab, publish

pytestmark = pytest.mark.e2e

OUTAGE = 9_000  # milliseconds the server stays down


def test_tabs_back_off_while_the_server_is_down_and_resume_when_it_returns(
    browser_server: Server, new_context: Any
) -> None:
    tab = open_tab(new_context, browser_server, "frank", EVENTS)
    tab.page.evaluate("Math.random = () => 0")  # the shortest of each backoff delay
    attempts: list[str] = []
    tab.page.on("request", lambda r: attempts.append(r.url) if "/events/" in r.url else None)
    browser_server.stop()  # SIGTERM: the drain's short retry:, then the process is gone
    tab.state_is("reconnecting")
    tab.page.wait_for_timeout(OUTAGE)
    # The browser's own retry (it may still reach the draining process, which answers
    # and closes: once more), then ours 0.5, 1, 2 and 4 s apart: at most 6 in 9 s (the
    # drain's retry: alone made 12). With jitter each delay is up to twice as long.
    assert 2 <= len(attempts) <= 6, attempts
    restart(browser_server)
    tab.state_is("open", timeout=60_000)  # the next attempt is up to 8 s away
    publish(browser_server, broadcast("back", event="feed"))
    assert tab.wait_for(1) == [["sse:feed", "back"]]
