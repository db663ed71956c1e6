"""django-sse.js in real headless Chromium against a live daphne.

Two browser contexts are two users. Each page is the test server's page with
``{% sse_script %}``; an init script records the DOM events it receives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    browser_fixture,
    browser_server_fixture,
    new_context_fixture,
    reconnected_states,
    restart,
)
from tests.services import Backend, Server, finish, wait_until
from tests.sse_client import broadcast, to_user

pytestmark = pytest.mark.e2e

RECORD = """
window.received = [];
window.states = [];
for (const type of ['sse:notification', 'sse:feed', 'sse:message', 'sse:reset']) {
  document.addEventListener(type, (e) => received.push([e.type, e.detail, e.lastEventId]));
}
document.addEventListener('sse:state', (e) => states.push(e.detail.state));
"""
EVENTS = "event=notification&event=feed"


@dataclass
class Tab:
    page: Any
    pk: int

    def state_is(self, state: str, timeout: float | None = None) -> None:
        html = expect(self.page.locator("html"))
        html.to_have_attribute("data-sse-state", state, timeout=timeout)

    def wait_for(self, count: int) -> list[list[Any]]:
        """The first ``count`` events, without their ids, once that many arrived."""
        self.page.wait_for_function(f"received.length >= {count}")
        return [[kind, _summary(detail)] for kind, detail, _ in self.page.evaluate("received")]

    def ids(self) -> list[str]:
        return [event_id for *_, event_id in self.page.evaluate("received")]


def open_tab(new_context: Any, server: Server, username: str, query: str = EVENTS) -> Tab:
    context = new_context(base_url=server.url)
    context.add_init_script(script=RECORD)
    page = context.new_page()
    pk = page.goto(f"/test/login/{username}/").json()["pk"]
    page.goto(f"/test/browser/page/?{query}")
    tab = Tab(page, pk)
    tab.state_is("open")
    return tab


def publish(server: Server, *specs: dict[str, Any]) -> None:
    httpx.post(f"{server.url}/test/publish/", json=list(specs)).raise_for_status()


def _summary(detail: Any) -> Any:
    """A tests.publisher event is known by its tag and number (it may carry more)."""
    if isinstance(detail, dict) and "tag" in detail:
        return {"tag": detail["tag"], "i": detail["i"]}
    return detail


def tagged(tag: str, count: int) -> list[list[Any]]:
    """tests.publisher's events, as Tab.wait_for() shows them."""
    return [["sse:message", {"tag": tag, "i": i}] for i in range(count)]


def test_a_notification_reaches_only_its_user_and_a_broadcast_everyone(
    browser_server: Server, new_context: Any
) -> None:
    alice = open_tab(new_context, browser_server, "alice")
    bob = open_tab(new_context, browser_server, "bob")
    note = {"from": "alice", "text": "<img src=x onerror=alert(1)>"}
    publish(browser_server, to_user(bob.pk, note, event="notification"))
    publish(browser_server, broadcast({"text": "hello all"}, event="feed"))
    assert bob.wait_for(2) == [["sse:notification", note], ["sse:feed", {"text": "hello all"}]]
    assert alice.wait_for(1) == [["sse:feed", {"text": "hello all"}]]
    assert len(set(bob.ids() + alice.ids())) == 3


def test_reconnects_after_a_restart_and_shows_missed_events_once(
    browser_server: Server, sqlite_backend: Backend, new_context: Any
) -> None:
    alice = open_tab(new_context, browser_server, "alice")
    bob = open_tab(new_context, browser_server, "bob")
    publish(browser_server, broadcast("before", event="feed"))
    assert alice.wait_for(1) == bob.wait_for(1) == [["sse:feed", "before"]]

    browser_server.stop()
    alice.state_is("reconnecting")
    bob.state_is("reconnecting")
    finish(sqlite_backend.publisher("user", str(bob.pk), 2, "to-bob"))
    finish(sqlite_backend.publisher("broadcast", "-", 3, "to-all"))
    restart(browser_server)
    alice.state_is("open")
    bob.state_is("open")

    publish(browser_server, broadcast("after", event="feed"))
    missed_by_all = tagged("to-all", 3)
    after = [["sse:feed", "after"]]
    assert alice.wait_for(5) == [["sse:feed", "before"], *missed_by_all, *after]
    bob_events = bob.wait_for(7)
    assert bob_events[0] == ["sse:feed", "before"]
    assert sorted(bob_events[1:6], key=json.dumps) == sorted(
        missed_by_all + tagged("to-bob", 2), key=json.dumps
    )
    assert [e for e in bob_events if e in missed_by_all] == missed_by_all  # in order
    assert bob_events[6:] == after
    for tab in (alice, bob):
        states = tab.page.evaluate("states")
        assert states == reconnected_states(states)


def test_backs_off_and_resumes_from_its_cursor_when_the_browser_gives_up(
    browser_server: Server, sqlite_backend: Backend, new_context: Any
) -> None:
    """A 503 makes EventSource give up; the script retries with ?last_event_id."""
    tab = open_tab(new_context, browser_server, "carol", f"{EVENTS}&url=/test/browser/events/")
    tab.page.evaluate("Math.random = () => 0")  # the shortest backoff: 0.5, 1, 2, 4 s...
    responses: list[Any] = []
    tab.page.on("response", lambda response: responses.append(response))
    publish(browser_server, broadcast("before", event="feed"))
    assert tab.wait_for(1) == [["sse:feed", "before"]]
    [cursor] = tab.ids()

    browser_server.stop()
    tab.state_is("reconnecting")
    responses.clear()  # the stopped server may have let the page back in while it drained
    finish(sqlite_backend.publisher("broadcast", "-", 2, "down"))
    browser_server.overrides["TEST_STREAM_REFUSALS"] = 2
    restart(browser_server)
    tab.state_is("open", timeout=60_000)  # the backoff grew while the server was down

    assert tab.wait_for(3) == [["sse:feed", "before"], *tagged("down", 2)]
    # The browser's own retry met a server still down, so the script took over, with
    # its backoff: each retry of ours carries the cursor in the query string, through
    # the 503s (on which a browser would give up) to the 200.
    answers = [_answer(r) for r in responses if "/test/browser/events/" in r.url]
    assert [a[1:] for a in answers] == [[503, "query"], [503, "query"], [200, "query"]]
    assert {a[0] for a in answers} == {cursor}
    states = tab.page.evaluate("states")
    assert states == reconnected_states(states)


def _answer(response: Any) -> list[Any]:
    """[cursor sent, status, where the cursor was] for the gated stream's answers."""
    request = response.request
    header = request.all_headers().get("last-event-id")
    query = parse_qs(urlsplit(request.url).query).get("last_event_id", [""])[0]
    return [header or query, response.status, "last-event-id" if header else "query"]


POST = """async ([url, body, abortAfter]) => {
  const deadline = new Promise((resolve) => setTimeout(resolve, 10000, 'no answer in 10 s'));
  const controller = new AbortController();
  const events = [];
  const onEvent = (e) => {
    events.push(e);
    if (e.event === abortAfter) controller.abort();
  };
  try {
    const posted = djangoSSE.post(url, {body, onEvent, signal: controller.signal});
    const lastId = await Promise.race([posted, deadline]);
    return {lastId, events};
  } catch (error) {
    return {error: `${error.name}: ${error.message}`, events};
  }
}"""


def test_post_reads_a_stream_sent_in_awkward_chunks_with_the_csrf_cookie(
    browser_server: Server, new_context: Any
) -> None:
    tab = open_tab(new_context, browser_server, "dave")
    outcome = tab.page.evaluate(POST, ["/test/browser/post/", {"n": 1}, None])
    assert outcome == {
        "lastId": "2",
        "events": [
            {"event": "message", "data": "one", "raw": "one", "id": "1"},
            {"event": "echo", "data": {"n": 1}, "raw": '{"n":1}', "id": "1"},
            {"event": "done", "data": {"ok": True}, "raw": '{"ok": true}', "id": "2"},
        ],
    }


def test_post_without_the_csrf_cookie_is_refused(browser_server: Server, new_context: Any) -> None:
    tab = open_tab(new_context, browser_server, "dave")
    tab.page.context.clear_cookies(name="csrftoken")
    outcome = tab.page.evaluate(POST, ["/test/browser/post/", "x", None])
    assert outcome == {
        "error": "Error: django-sse: 403 text/html; charset=utf-8 from /test/browser/post/",
        "events": [],
    }


def test_post_abort_cancels_the_request_and_the_servers_work(
    browser_server: Server, new_context: Any
) -> None:
    tab = open_tab(new_context, browser_server, "dave")
    outcome = tab.page.evaluate(POST, ["/test/browser/post/?hang=1", "x", "echo"])
    assert outcome["error"] == "AbortError: signal is aborted without reason"
    assert [e["event"] for e in outcome["events"]] == ["message", "echo"]
    open_posts = f"{browser_server.url}/test/browser/post/open/"
    wait_until(lambda: httpx.get(open_posts).json() == {"open": 0})
