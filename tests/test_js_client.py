"""django-sse.js's connection logic in real Chromium, with a scripted EventSource.

The end-to-end behaviour against a real server is in test_browser.py; here a fake
EventSource lets each test play the exact sequence (open, error, give up) and
Playwright's clock makes the backoff timers deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser_fixtures import TIMEOUT, browser_fixture  # noqa: F401 - a fixture

JS_FILE = Path(__file__).resolve().parent.parent / "django_sse/static/django_sse/django-sse.js"
ORIGIN = "http://sse.test"
SECURE_ORIGIN = "https://sse.test"
PAGE = """<!doctype html><html><head><title>client</title>
<script src="/static/django-sse.js" data-url="/events/?topic=t&amp;last_event_id=c.0"
  data-events='["feed"]' defer></script>
<script src="/later.js" defer></script>
</head><body></body></html>"""
LATER = "window.laterRan = true;"

FAKE_EVENT_SOURCE = """
window.sources = [];
window.seen = [];
window.states = [];
class FakeEventSource extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.afterLaterScript = window.laterRan === true;
    window.sources.push(this);
  }
  close() { this.readyState = 2; }
  open() { this.readyState = 1; this.onopen(new Event('open')); }
  fail(readyState) { this.readyState = readyState; this.onerror(new Event('error')); }
  emit(type, data, lastEventId) {
    this.dispatchEvent(new MessageEvent(type, {data, lastEventId: lastEventId || ''}));
  }
}
Object.assign(FakeEventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
window.EventSource = FakeEventSource;
for (const type of ['sse:feed', 'sse:message', 'sse:reset', 'sse:late', 'sse:other']) {
  document.addEventListener(type, (e) => seen.push([e.type, e.detail, e.lastEventId]));
}
document.addEventListener('sse:state', (e) => states.push(e.detail.state));
"""
CONNECTING, CLOSED = 0, 2
PROVEN_AFTER = 5_000  # milliseconds an open stream must last to count as a success


def _serve(route: Any) -> None:
    path = urlsplit(route.request.url).path
    if path == "/static/django-sse.js":
        route.fulfill(path=str(JS_FILE), content_type="text/javascript")
    elif path == "/later.js":
        route.fulfill(body=LATER, content_type="text/javascript")
    else:
        route.fulfill(body=PAGE, content_type="text/html")


def _page(browser: Any, origin: str) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    context.route(f"{origin}/**", _serve)
    context.add_init_script(script=FAKE_EVENT_SOURCE)
    page = context.new_page()
    page.clock.install(time=0)
    page.goto(f"{origin}/")
    page.clock.pause_at(3_600_000)  # from here on, timers fire only when the test says
    yield page
    context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Plain http on a host that is not this machine: not a secure context, so no Web
    Locks, so each tab has a stream of its own (the fallback)."""
    yield from _page(browser, ORIGIN)


@pytest.fixture
def secure_page(browser: Any) -> Iterator[Any]:
    """https: a secure context, where the tabs of a page share one stream."""
    yield from _page(browser, SECURE_ORIGIN)


def emit(page: Any, index: int, name: str, data: str, last_id: str = "") -> None:
    page.evaluate("([i, n, d, id]) => sources[i].emit(n, d, id)", [index, name, data, last_id])


def sources(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("sources.map((s) => ({url: s.url, readyState: s.readyState}))"))


def test_connects_with_the_tag_url_once_deferred_scripts_have_run(page: Any) -> None:
    assert page.evaluate("sources.map((s) => [s.url, s.afterLaterScript])") == [
        [f"{ORIGIN}/events/?topic=t&last_event_id=c.0", True]
    ]
    assert page.evaluate("document.documentElement.dataset.sseState") == "connecting"
    assert page.evaluate("djangoSSE.role") == "alone"  # not a secure context: no Web Locks


def test_named_events_become_dom_events_with_json_or_text(page: Any) -> None:
    page.evaluate("sources[0].open()")
    emit(page, 0, "feed", '{"text": "hi", "n": [1]}', "c.1")
    emit(page, 0, "message", "<b>not html</b>", "c.2")
    emit(page, 0, "other", '"not declared: not listened to"', "c.3")
    emit(page, 0, "sse:reset", '{"reason": "expired"}', "c.9")
    assert page.evaluate("seen") == [
        ["sse:feed", {"text": "hi", "n": [1]}, "c.1"],
        ["sse:message", "<b>not html</b>", "c.2"],
        ["sse:reset", {"reason": "expired"}, "c.9"],
    ]
    assert page.evaluate("djangoSSE.lastEventId") == "c.9"


def test_on_listens_calls_back_and_unsubscribes(page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(error.message))
    page.evaluate("""() => {
      window.calls = [];
      djangoSSE.on('late', () => { throw new Error('boom'); });
      window.off = djangoSSE.on('late', (data, info) => calls.push([data, info]));
    }""")
    emit(page, 0, "late", "[1, 2]", "c.4")
    page.evaluate("off()")
    emit(page, 0, "late", "3", "c.5")
    assert page.evaluate("calls") == [[[1, 2], {"event": "late", "id": "c.4", "raw": "[1, 2]"}]]
    assert page.evaluate("seen") == [["sse:late", [1, 2], "c.4"], ["sse:late", 3, "c.5"]]
    assert errors == ["boom", "boom"]


def test_state_attribute_and_event_follow_the_connection(page: Any) -> None:
    page.evaluate("sources[0].open()")
    page.clock.run_for(PROVEN_AFTER)  # a stream that lasted: its end is the browser's
    page.evaluate(f"sources[0].fail({CONNECTING})")
    assert page.evaluate("document.documentElement.dataset.sseState") == "reconnecting"
    page.evaluate("sources[0].open()")
    page.evaluate("djangoSSE.close()")
    assert page.evaluate("states") == ["connecting", "open", "reconnecting", "open", "closed"]
    assert page.evaluate("document.documentElement.dataset.sseState") == "closed"
    assert sources(page) == [
        {"url": f"{ORIGIN}/events/?topic=t&last_event_id=c.0", "readyState": 2}
    ]


def test_reconnects_itself_with_backoff_and_the_last_id_when_the_browser_gives_up(
    page: Any,
) -> None:
    page.evaluate("Math.random = () => 0")  # the shortest delay of each attempt
    page.evaluate("sources[0].open()")
    emit(page, 0, "feed", "1", "c.5")
    emit(page, 0, "feed", "ephemeral, no id")
    resumed = f"{ORIGIN}/events/?topic=t&last_event_id=c.5"
    for delay in (500, 1000, 2000):
        page.evaluate(f"sources.at(-1).fail({CLOSED})")
        assert page.evaluate("djangoSSE.state") == "reconnecting"
        before = len(sources(page))
        page.clock.run_for(delay - 1)
        assert len(sources(page)) == before
        page.clock.run_for(1)
        assert sources(page)[before:] == [{"url": resumed, "readyState": CONNECTING}]
    page.evaluate("sources.at(-1).open()")
    emit(page, 3, "feed", "2", "c.6")  # a success (an event) starts the backoff over
    page.evaluate(f"sources.at(-1).fail({CLOSED})")
    page.clock.run_for(500)
    assert len(sources(page)) == 5
    assert page.evaluate("states") == ["connecting", "open", "reconnecting", "open", "reconnecting"]


def test_a_failed_reconnect_is_taken_over_with_backoff_whatever_retry_said(
    page: Any,
) -> None:
    """A drop: the browser's own reconnect, once, after the server's retry:. If that
    fails as well, the server is down: the script's backoff, not the browser's loop."""
    page.evaluate("Math.random = () => 0")
    page.evaluate("sources[0].open()")
    emit(page, 0, "feed", "1", "c.5")
    page.evaluate(f"sources[0].fail({CONNECTING})")  # the stream ended
    assert len(sources(page)) == 1  # the browser retries it by itself
    page.evaluate(f"sources[0].fail({CONNECTING})")  # and that failed
    assert sources(page)[0]["readyState"] == CLOSED
    resumed = f"{ORIGIN}/events/?topic=t&last_event_id=c.5"
    for delay in (500, 1000, 2000):
        before = len(sources(page))
        page.clock.run_for(delay - 1)
        assert len(sources(page)) == before
        page.clock.run_for(1)
        assert sources(page)[before:] == [{"url": resumed, "readyState": CONNECTING}]
        page.evaluate(f"sources.at(-1).fail({CONNECTING})")  # refused again: no second chance
        assert sources(page)[-1]["readyState"] == CLOSED
    page.clock.run_for(4000)
    page.evaluate("sources.at(-1).open()")  # back: the next drop is the browser's again
    page.clock.run_for(PROVEN_AFTER)
    page.evaluate(f"sources.at(-1).fail({CONNECTING})")
    assert sources(page)[-1]["readyState"] == CONNECTING
    assert page.evaluate("states") == ["connecting", "open", "reconnecting", "open", "reconnecting"]


def test_an_answer_that_hangs_up_at_once_is_a_failed_reconnect_not_a_success(
    page: Any,
) -> None:
    """A draining server, one at its cap or without its database answers 200 and closes
    at once: that open does not reset the backoff nor earn the browser's quick retry."""
    page.evaluate("Math.random = () => 0")
    page.evaluate("sources[0].open()")
    page.clock.run_for(PROVEN_AFTER)
    page.evaluate(f"sources[0].fail({CONNECTING})")  # a proven stream ended: the browser's
    assert len(sources(page)) == 1
    page.evaluate("sources[0].open()")  # the draining process answered the reconnect
    page.clock.run_for(100)
    page.evaluate(f"sources[0].fail({CONNECTING})")  # and hung up at once
    assert sources(page)[0]["readyState"] == CLOSED
    for delay in (500, 1000, 2000, 4000):
        before = len(sources(page))
        page.clock.run_for(delay - 1)
        assert len(sources(page)) == before
        page.clock.run_for(1)
        assert len(sources(page)) == before + 1
        page.evaluate("sources.at(-1).open()")  # answered, then closed: still backing off
        page.evaluate(f"sources.at(-1).fail({CONNECTING})")
        assert sources(page)[-1]["readyState"] == CLOSED
    page.evaluate("sources[0].open()")  # a late open of a closed source changes nothing
    assert page.evaluate("djangoSSE.state") == "reconnecting"
    assert page.evaluate("states").count("open") == 6


def test_retry_delay_doubles_to_a_ceiling_with_jitter(page: Any) -> None:
    delays = "() => [0, 1, 2, 3, 4, 5, 6, 9].map((a) => djangoSSE.retryDelay(a))"
    page.evaluate("Math.random = () => 0")
    assert page.evaluate(delays) == [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]
    page.evaluate("Math.random = () => 0.5")
    assert page.evaluate(delays) == [750, 1500, 3000, 6000, 12000, 22500, 22500, 22500]


def test_leaving_the_page_closes_quietly_and_coming_back_from_the_cache_reopens(
    page: Any,
) -> None:
    page.evaluate("sources[0].open()")
    emit(page, 0, "feed", "1", "c.7")
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    assert sources(page) == [
        {"url": f"{ORIGIN}/events/?topic=t&last_event_id=c.0", "readyState": 2}
    ]
    assert page.evaluate("djangoSSE.state") == "open"
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    assert sources(page)[1:] == [
        {"url": f"{ORIGIN}/events/?topic=t&last_event_id=c.7", "readyState": CONNECTING}
    ]
    assert page.evaluate("states") == ["connecting", "open", "connecting"]


def test_create_event_source_for_htmx_resumes_from_the_last_id_its_listeners_saw(
    page: Any,
) -> None:
    page.evaluate("""() => {
      window.swapped = [];
      const first = djangoSSE.createEventSource('/events/?last_event_id=r.0');
      first.addEventListener('feed', (e) => swapped.push(e.data));
      first.emit('feed', 'a', 'r.1');
      first.emit('feed', 'b', 'r.2');
      first.emit('typing', 'no listener: unseen', 'r.3');
      djangoSSE.createEventSource('/events/?last_event_id=r.0');
    }""")
    assert page.evaluate("sources.slice(1).map((s) => s.url)") == [
        f"{ORIGIN}/events/?last_event_id=r.0",
        f"{ORIGIN}/events/?last_event_id=r.2",
    ]
    assert page.evaluate("swapped") == ["a", "b"]


def test_connecting_to_other_topics_names_the_topics_its_cursor_belongs_to(page: Any) -> None:
    page.evaluate("sources[0].open()")
    emit(page, 0, "feed", "1", "c.7")
    page.evaluate("djangoSSE.connect('/events/?topic=t&topic=u')")  # added one
    page.evaluate("djangoSSE.connect('/events/')")  # removed both
    page.evaluate("djangoSSE.connect('/events/')")  # the same topics: nothing to name
    assert [s["url"] for s in sources(page)[1:]] == [
        f"{ORIGIN}/events/?topic=t&topic=u&from_topic=t&last_event_id=c.7",
        f"{ORIGIN}/events/?from_topic=t&from_topic=u&last_event_id=c.7",
        f"{ORIGIN}/events/?last_event_id=c.7",
    ]


def test_a_revoked_topic_reconnects_without_it_keeping_the_other_places(page: Any) -> None:
    page.evaluate("sources[0].open()")
    emit(page, 0, "sse:revoked", '{"stream": "topic:t", "topic": "t"}', "c.8")
    assert [(s["url"], s["readyState"]) for s in sources(page)] == [
        (f"{ORIGIN}/events/?topic=t&last_event_id=c.0", CLOSED),
        (f"{ORIGIN}/events/?last_event_id=c.8&from_topic=t", CONNECTING),
    ]


def test_a_follower_tab_takes_each_relayed_event_once_and_keeps_the_furthest_cursor(
    secure_page: Any,
) -> None:
    page = secure_page
    follower = page.context.new_page()
    follower.goto(f"{SECURE_ORIGIN}/")
    follower.wait_for_function("window.djangoSSE?.role === 'follower'", polling=50)
    assert page.evaluate("djangoSSE.role") == "leader"
    page.evaluate("sources[0].open()")
    follower.wait_for_function("djangoSSE.state === 'open'", polling=50)  # mirrored
    for kind, data, event_id in [
        ("feed", "a", "t.1.0"),
        ("feed", "b", "t.1.1"),
        ("message", "ephemeral", "t.1.1"),  # no id of its own: always delivered
        ("feed", "a again", "t.1.0"),  # a new leader's replay: already had
        ("feed", "c", "t.2.1"),
        ("feed", "old", "t.2.0"),  # behind in the second stream, nowhere ahead
        ("feed", "d", "t.3.0"),  # ahead in the first: the cursor keeps the furthest of both
    ]:
        emit(page, 0, kind, data, event_id)
    follower.wait_for_function("seen.length >= 5", polling=50)
    follower.wait_for_timeout(200)
    assert [detail for _, detail, _ in follower.evaluate("seen")] == [
        "a",
        "b",
        "ephemeral",
        "c",
        "d",
    ]
    assert follower.evaluate("djangoSSE.lastEventId") == "t.3.1"
    follower.close()
