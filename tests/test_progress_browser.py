"""The progress demos in headless Chromium, against the demo served by daphne: the
batch import's bar, tally and Cancel (which stops the server's work), the phased
report, and a background job followed across a reload."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    DemoBackend,
    DemoServer,
    browser_fixture,
    demo_backend_fixture,
    demo_database_fixture,
    demo_server_fixture,
    log_in,
    new_context_fixture,
    screenshot,
    state_is,
)
from tests.services import wait_until

pytestmark = pytest.mark.e2e

# Every `job` event the page's stream delivers, as django-sse.js dispatches it.
RECORD_JOBS = """
window.jobEvents = [];
document.addEventListener('sse:job', (event) => jobEvents.push(event.detail));
"""
RUNS = "SELECT status, imported, failed FROM demo_project_importrun"


def open_demo(page: Any, link: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()
    state_is(page, "open")


def wait_for_percent(page: Any, panel: str, at_least: float) -> None:
    bar = f"document.querySelector('{panel} .bar').getAttribute('aria-valuenow')"
    page.wait_for_function(f"Number({bar}) >= {at_least}")


def percent(page: Any, panel: str) -> float:
    return float(page.locator(f"{panel} .bar").get_attribute("aria-valuenow"))


def test_batch_import_reaches_100_percent_and_shows_the_tally(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    page = log_in(new_context, demo_server, "alice")
    open_demo(page, "Import")
    page.get_by_role("button", name="Start import").click()

    batch = page.locator("#batch")
    expect(batch).to_have_attribute("data-status", "succeeded")
    expect(batch.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(batch.locator(".bar-label")).to_have_text("100%")
    expect(batch.locator("[data-succeeded]")).to_have_text("47")
    expect(batch.locator("[data-failed]")).to_have_text("3")
    expect(batch.locator("[data-message]")).to_have_text("Done: 47 imported, 3 failed.")
    expect(batch.locator("[data-log] li")).to_have_text(
        [
            "item 33: unknown category",
            "item 19: duplicate SKU",
            "item 7: missing price",
            "Importing 50 items",
        ]
    )
    expect(batch.get_by_role("button", name="Cancel")).to_be_disabled()
    screenshot(page, "progress-batch")
    # The run's status is written before the stream's final `done` event.
    assert demo_backend.query(RUNS) == [("succeeded", 47, 3)]


def test_cancel_stops_the_batch_import_on_the_server(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    page = log_in(new_context, demo_server, "alice")
    open_demo(page, "Import")
    page.get_by_role("button", name="Start import").click()
    wait_for_percent(page, "#batch", 10)
    page.get_by_role("button", name="Cancel").click()

    batch = page.locator("#batch")
    expect(batch).to_have_attribute("data-status", "cancelled")
    shown = percent(page, "#batch") / 2  # items, of 50, the page saw processed
    # The work's `finally` records how it ended, once the abort reached the server.
    [(status, imported, failed)] = wait_until(
        lambda: [row for row in demo_backend.query(RUNS) if row[0] != "running"]
    )
    assert status == "cancelled"
    assert shown <= imported + failed < 50  # stopped mid-way: no item after the abort

    # The panel and "Recent runs" show what the server recorded, live, not the last tick.
    expect(batch.locator("[data-succeeded]")).to_have_text(str(imported))
    expect(batch.locator("[data-failed]")).to_have_text(str(failed))
    expect(batch.locator("[data-message]")).to_have_text(
        f"Cancelled: the server stopped after {imported + failed} of 50 items."
    )
    run = page.locator("tr[data-run] td")
    expect(run).to_have_text(["#1", "cancelled", f"{imported} of 50", str(failed), "just now"])
    screenshot(page, "progress-batch-cancelled")
    page.reload()
    expect(run).to_have_text(["#1", "cancelled", f"{imported} of 50", str(failed), "0 minutes ago"])


def test_phased_report_moves_through_its_weighted_phases(
    demo_server: DemoServer, new_context: Any
) -> None:
    page = log_in(new_context, demo_server, "bob")
    open_demo(page, "Phases")
    page.get_by_role("button", name="Build report").click()
    report = page.locator("#report")
    expect(report.locator("[data-phase].current")).to_have_text(["process 70%"])
    expect(report.locator("[data-phase].done")).to_have_text(["validate 10%"])
    assert 10 <= percent(page, "#report") <= 80  # the process phase spans 10% to 80%

    expect(report).to_have_attribute("data-status", "succeeded")
    expect(report.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(report.locator("[data-message]")).to_have_text("finalize 6 of 6")
    expect(report.locator("[data-phase].done")).to_have_count(3)
    expect(report.locator("[data-log] li")).to_have_text(
        ["Report ready", "Finalize: 6 steps", "Process: 35 steps", "Validate: 8 steps"]
    )
    screenshot(page, "progress-phases")


def start_export(page: Any) -> str:
    open_demo(page, "Job")
    page.get_by_role("button", name="Start an export").click()
    state_is(page, "open")
    return str(page.locator("#job").get_attribute("data-job"))


def test_a_job_page_reloaded_mid_job_shows_its_percent_at_once_and_ends_once(
    demo_server: DemoServer, new_context: Any
) -> None:
    page = log_in(new_context, demo_server, "alice", init_script=RECORD_JOBS)
    job_id = start_export(page)
    wait_for_percent(page, "#job", 10)

    with page.expect_response(f"**/events/jobs/{job_id}/") as read:
        page.reload()
        shown = percent(page, "#job")  # as rendered: the job's saved state, not 0%
    assert 0 < shown < 100
    assert read.value.json()["status"] == "running"  # read once the stream was open
    expect(page.locator("#job")).to_have_attribute("data-status", "running")
    state_is(page, "open")
    screenshot(page, "progress-job-reloaded")

    expect(page.locator("#job")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#job .bar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#job [data-message]")).to_have_text("Exported 100 records")
    expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
    ends = page.evaluate("jobEvents.filter((state) => state.status !== 'running')")
    assert ends == [
        {
            "id": job_id,
            "name": "export",
            "status": "succeeded",
            "total": 100,
            "current": 100,
            "percent": 100,
            "message": "Exported 100 records",
            "version": 102,
        }
    ]
    screenshot(page, "progress-job")

    open_demo(page, "Job")
    listed = re.compile(r"^Export of [\d:]+\s+succeeded 100%$")
    expect(page.locator(".items li")).to_have_text([listed])
    screenshot(page, "progress-jobs")


def test_cancel_stops_a_background_job(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    page = log_in(new_context, demo_server, "bob", init_script=RECORD_JOBS)
    job_id = start_export(page)
    wait_for_percent(page, "#job", 10)
    page.get_by_role("button", name="Cancel").click()

    expect(page.locator("#job")).to_have_attribute("data-status", "cancelled")
    [(status, cancel_requested, state)] = demo_backend.query(
        "SELECT status, cancel_requested, state FROM django_sse_job WHERE id = ?",
        job_id.replace("-", ""),
    )
    assert (status, cancel_requested) == ("cancelled", 1)
    current = json.loads(state)["current"]
    assert 10 <= current < 100  # the worker stopped at its next check of the flag
    [end] = page.evaluate("jobEvents.filter((state) => state.status !== 'running')")
    assert (end["status"], end["current"]) == ("cancelled", current)
    assert percent(page, "#job") == end["percent"]
    expect(page.locator("#job [data-message]")).to_have_text(
        f"Cancelled after {current} of 100 records"
    )


def test_the_job_list_follows_jobs_live_and_a_job_of_someone_else_is_not_found(
    demo_server: DemoServer, new_context: Any
) -> None:
    alice = log_in(new_context, demo_server, "alice")
    open_demo(alice, "Job")
    watcher = alice.context.new_page()  # a second tab on the list
    watcher.goto("/progress/jobs/")
    state_is(watcher, "open")
    alice.get_by_role("button", name="Start an export").click()
    job_id = str(alice.locator("#job").get_attribute("data-job"))
    listed = watcher.locator(f'li[data-job-id="{job_id}"]')
    expect(listed.locator(".pill")).to_have_text("running")
    expect(listed).to_have_text(re.compile(r"^Export of [\d:]+\s+succeeded 100%$"))

    bob = log_in(new_context, demo_server, "bob")
    answer = bob.goto(f"/progress/jobs/{job_id}/")
    assert answer is not None and answer.status == 404
    expect(bob.get_by_role("heading", name="No such job")).to_be_visible()
