"""djangoSSE.followJob() in real Chromium, with a scripted EventSource and a state URL
whose answers the test sets: the order of live ticks and reads, made exact.

The whole flow against the demo on daphne is in test_progress_browser.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_fixtures import TIMEOUT, browser_fixture  # noqa: F401 - a fixture

JS_FILE = Path(__file__).resolve().parent.parent / "django_sse/static/django_sse/django-sse.js"
ORIGIN = "http://sse.test"
PAGE = """<!doctype html><html><head><title>job</title>
<script src="/static/django-sse.js" data-url="/events/" defer></script>
</head><body></body></html>"""
STATE_URL = "/jobs/j1/"

FAKE_EVENT_SOURCE = """
window.sources = [];
window.shown = [];
class FakeEventSource extends EventTarget {
  constructor(url) { super(); this.url = url; this.readyState = 0; sources.push(this); }
  close() { this.readyState = 2; }
  open() { this.readyState = 1; this.onopen(new Event('open')); }
  drop() { this.readyState = 0; this.onerror(new Event('error')); }
  emit(type, data) { this.dispatchEvent(new MessageEvent(type, {data, lastEventId: ''})); }
}
Object.assign(FakeEventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
window.EventSource = FakeEventSource;
"""


class Job:
    """The page, and the state the job URL answers with (``reads`` counts the reads)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.state: dict[str, Any] = {}
        self.reads = 0

    def serve(self, route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/static/django-sse.js":
            route.fulfill(path=str(JS_FILE), content_type="text/javascript")
        elif path == STATE_URL:
            self.reads += 1
            route.fulfill(body=json.dumps(self.state), content_type="application/json")
        else:
            route.fulfill(body=PAGE, content_type="text/html")

    def follow(self) -> None:
        follow = "djangoSSE.followJob('j1', '/jobs/j1/', (state) => shown.push(state))"
        self.page.evaluate(f"() => {{ window.stop = {follow}; }}")  # not a returned function

    def tick(self, job_id: str, status: str, percent: float) -> None:
        data = json.dumps(state(status, percent, job_id))
        self.page.evaluate("(data) => sources.at(-1).emit('job', data)", data)

    def shown(self, count: int) -> list[list[Any]]:
        """[status, percent] of the states shown, once there are ``count``."""
        self.page.wait_for_function(f"shown.length >= {count}")
        return [[s["status"], s["percent"]] for s in self.page.evaluate("shown")]


@pytest.fixture
def job(browser: Any) -> Iterator[Job]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    context.add_init_script(script=FAKE_EVENT_SOURCE)
    page = context.new_page()
    job = Job(page)
    context.route(f"{ORIGIN}/**", job.serve)
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("sources.length === 1")
    yield job
    context.close()


def state(status: str, percent: float, job_id: str = "j1") -> dict[str, Any]:
    """A job state; here its version grows with its percent, as a job's does."""
    return {"id": job_id, "status": status, "percent": percent, "version": percent}


def test_reads_the_state_when_the_stream_opens_then_follows_its_own_ticks(job: Job) -> None:
    job.state = state("running", 20)
    job.follow()
    assert job.reads == 0  # not before the stream listens
    job.page.evaluate("sources[0].open()")
    assert job.shown(1) == [["running", 20]]
    job.tick("another-job", "running", 90)
    job.tick("j1", "running", 21)
    assert job.shown(2) == [["running", 20], ["running", 21]]


def test_a_read_behind_a_live_tick_is_skipped(job: Job) -> None:
    job.follow()
    job.tick("j1", "running", 40)
    job.state = state("running", 35)  # saved before the tick the page already shows
    job.page.evaluate("sources[0].open()")
    job.page.wait_for_function("performance.getEntriesByType('resource').length >= 2")
    job.tick("j1", "running", 41)
    assert job.shown(2) == [["running", 40], ["running", 41]]
    assert job.reads == 1


def test_reads_again_after_a_reconnect_and_stops_at_the_end(job: Job) -> None:
    job.state = state("running", 10)
    job.follow()
    job.page.evaluate("sources[0].open()")
    assert job.shown(1) == [["running", 10]]

    job.tick("another-job", "running", 50)  # the stream has lasted: its drop is a drop
    job.page.evaluate("sources[0].drop()")  # ticks sent meanwhile are lost for good
    job.state = state("succeeded", 100)  # the job ended while the page was away
    job.page.evaluate("sources[0].open()")
    assert job.shown(2) == [["running", 10], ["succeeded", 100]]
    job.tick("j1", "running", 99)  # nothing follows the end
    job.page.evaluate("sources[0].drop(); sources[0].open()")
    job.page.evaluate("fetch('/static/django-sse.js')")  # routed after a read it would start
    assert job.page.evaluate("shown.length") == 2
    assert job.reads == 2
