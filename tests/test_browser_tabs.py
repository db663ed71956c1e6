"""One stream for all the tabs of a page, in real headless Chromium against a live daphne:
eight tabs of one user hold one connection and all get every event once, in order; the
leader tab closed mid-stream hands over with nothing lost or repeated; tabs with other
topics share their own stream; the tabs' other requests never queue behind streams;
``shared=False`` and a browser without BroadcastChannel keep a stream per tab."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    browser_fixture,
    browser_server_fixture,
    new_context_fixture,
)
from tests.services import Backend, Server, finish, wait_until
from tests.sse_client import broadcast, to_topic, to_user

pytestmark = pytest.mark.e2e

RECORD = """
window.received = [];
for (const type of ['sse:notification', 'sse:message']) {
  document.addEventListener(type, (e) => received.push([e.type, e.detail, e.lastEventId]));
}
"""
TABS = 8


def hub(server: Server) -> dict[str, Any]:
    return dict(httpx.get(f"{server.url}/test/hub/", timeout=10).json())


def publish(server: Server, *specs: dict[str, Any]) -> None:
    httpx.post(f"{server.url}/test/publish/", json=list(specs), timeout=10).raise_for_status()


def open_tabs(context: Any, query: str, count: int) -> list[Any]:
    pages = []
    for _ in range(count):
        page = context.new_page()
        page.goto(f"/test/browser/page/?{query}")
        pages.append(page)
    for page in pages:
        expect(page.locator("html")).to_have_attribute("data-sse-state", "open")
    return pages


def logged_in(new_context: Any, server: Server, username: str) -> tuple[Any, int]:
    context = new_context(base_url=server.url)
    context.add_init_script(script=RECORD)
    page = context.new_page()
    pk = page.goto(f"/test/login/{username}/").json()["pk"]
    page.close()
    return context, pk


def received(page: Any, count: int) -> list[Any]:
    page.wait_for_function(f"received.length >= {count}", timeout=30_000)
    events = page.evaluate("received")
    return [
        [kind, detail.get("i", detail) if isinstance(detail, dict) else detail]
        for kind, detail, _ in events
    ]


def roles(pages: list[Any]) -> list[str]:
    return sorted(page.evaluate("djangoSSE.role") for page in pages)


def test_eight_tabs_share_one_stream_and_get_every_event_once_in_order(
    browser_server: Server, new_context: Any
) -> None:
    context, pk = logged_in(new_context, browser_server, "tabs-ann")
    pages = open_tabs(context, "event=notification", TABS)
    assert roles(pages) == ["follower"] * (TABS - 1) + ["leader"]
    wait_until(lambda: hub(browser_server)["subscriptions"] == 1)
    publish(browser_server, *[to_user(pk, {"i": i}, event="notification") for i in range(10)])
    publish(browser_server, broadcast({"i": 10}))
    expected = [["sse:notification", i] for i in range(10)] + [["sse:message", 10]]
    ids = set()
    for page in pages:
        assert received(page, 11) == expected
        ids.add(tuple(event_id for *_, event_id in page.evaluate("received")))
    assert len(ids) == 1  # every tab has the same cursor at every event
    # Another request of the site does not queue behind six streams of one host.
    assert pages[-1].evaluate("fetch('/test/hub/').then((r) => r.status)") == 200


def test_closing_the_leader_mid_stream_loses_and_repeats_nothing(
    browser_server: Server, sqlite_backend: Backend, new_context: Any
) -> None:
    context, _ = logged_in(new_context, browser_server, "tabs-bob")
    pages = open_tabs(context, "", TABS)
    worker = sqlite_backend.publisher("broadcast", "", 150, "tabs", 0.02)
    leader = next(page for page in pages if page.evaluate("djangoSSE.role") == "leader")
    leader.wait_for_function("received.length >= 30", timeout=30_000)
    leader.close()  # mid-stream: another tab takes the lock and the stream over
    pages.remove(leader)
    assert len(finish(worker, 120)) == 150
    for page in pages:
        assert received(page, 150) == [["sse:message", i] for i in range(150)]
        page.wait_for_timeout(300)  # nothing repeated behind the last
        assert len(page.evaluate("received")) == 150
    assert roles(pages) == ["follower"] * (TABS - 2) + ["leader"]
    wait_until(lambda: hub(browser_server)["subscriptions"] == 1)


def test_tabs_with_other_topics_share_a_stream_of_their_own(
    browser_server: Server, new_context: Any
) -> None:
    context, _ = logged_in(new_context, browser_server, "tabs-cy")
    rooms = open_tabs(context, "topic=open-a", 3)
    others = open_tabs(context, "topic=open-b", 3)
    assert roles(rooms) == roles(others) == ["follower", "follower", "leader"]
    wait_until(lambda: hub(browser_server)["subscriptions"] == 2)
    publish(browser_server, to_topic("open-a", {"i": "a"}), to_topic("open-b", {"i": "b"}))
    for page in rooms:
        assert received(page, 1) == [["sse:message", "a"]]
    for page in others:
        assert received(page, 1) == [["sse:message", "b"]]


def test_without_sharing_each_tab_has_its_own_stream(
    browser_server: Server, new_context: Any
) -> None:
    context, _ = logged_in(new_context, browser_server, "tabs-dee")
    own = open_tabs(context, "shared=0", 2)
    old = new_context(base_url=browser_server.url)
    old.add_init_script(script="delete window.BroadcastChannel;" + RECORD)  # an old browser
    old.new_page().goto("/test/login/tabs-dee/")
    older = open_tabs(old, "", 2)
    assert roles(own + older) == ["alone"] * 4
    wait_until(lambda: hub(browser_server)["subscriptions"] == 4)
    publish(browser_server, broadcast({"i": 1}))
    for page in own + older:
        assert received(page, 1) == [["sse:message", 1]]
