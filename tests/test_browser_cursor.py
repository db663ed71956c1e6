"""Exact for every client, in real Chromium: a plain ``EventSource`` that saw no
event yet still resumes, and the script surfaces ephemeral events it lost."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    STATIC_URL,
    browser_fixture,
    new_context_fixture,
)
from tests.conftest import ServerFactory
from tests.services import Backend
from tests.sse_client import broadcast
from tests.test_browser import publish

pytestmark = pytest.mark.e2e

RAW = """() => {
  window.got = [];
  window.errors = 0;
  const source = new EventSource('/events/');
  source.onerror = () => { errors += 1; };
  source.onmessage = (e) => got.push([e.data, e.lastEventId]);
}"""


def test_a_plain_event_source_that_saw_no_event_misses_nothing_across_a_drop(
    sqlite_backend: Backend, start_server: ServerFactory, new_context: Any
) -> None:
    """No script of ours: the browser's own reconnect sends the id of the first chunk."""
    server = start_server(sqlite_backend, SSE_MAX_CONNECTION_AGE=1.0, SSE_RETRY=2000)
    page = new_context(base_url=server.url).new_page()
    page.goto("/test/login/erin/")
    sent: list[str | None] = []

    def on_request(request: Any) -> None:
        if "/events/" in request.url:
            sent.append(request.all_headers().get("last-event-id"))

    page.on("request", on_request)
    page.evaluate(RAW)
    page.wait_for_function("errors >= 1")  # the stream reached its maximum age and ended
    publish(server, *[broadcast(f"away-{i}") for i in range(3)])  # within the 2 s retry
    page.wait_for_function("got.length >= 3")
    got = page.evaluate("got")
    assert [data for data, _ in got[:3]] == ["away-0", "away-1", "away-2"]
    assert sent[0] is None
    assert sent[1]  # the cursor of the first chunk, which carried no event


RECORD_DROPPED = """
window.dropped = [];
document.addEventListener('sse:dropped', (e) => dropped.push(e.detail));
"""


def test_the_script_surfaces_ephemeral_events_lost_to_an_overflow(
    sqlite_backend: Backend, start_server: ServerFactory, new_context: Any
) -> None:
    server = start_server(sqlite_backend, STATIC_URL=STATIC_URL)
    context = new_context(base_url=server.url)
    context.add_init_script(script=RECORD_DROPPED)
    page = context.new_page()
    page.goto("/test/login/erin/")
    page.goto("/test/browser/page/?url=/test/browser/dropped/")
    page.wait_for_function("dropped.length >= 1")
    assert page.evaluate("dropped") == [{"dropped": 2}]
    assert page.evaluate("djangoSSE.lastEventId") == "x.1"  # the replay after it counts
