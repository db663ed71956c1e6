"""Every page of the demo, at a phone's width and a desktop's, in headless Chromium:
the stream opens, nothing runs off the page, the header's links all show, and a visit
asks for nothing the server does not have (no favicon 404)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    DESKTOP,
    PHONE,
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

pytestmark = pytest.mark.e2e

PAGES = ["Notifications", "Feed", "Recovery", "Import", "Phases", "Job", "htmx", "Room"]
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_page_fits_its_screen_and_goes_live(
    demo_server: DemoServer, new_context: Any, width: str
) -> None:
    viewport = PHONE if width == "phone" else DESKTOP
    page = log_in(new_context, demo_server, "alice", viewport=viewport)
    missing: list[str] = []

    def note(response: Any) -> None:
        if response.status >= 400:
            missing.append(f"{response.status} {response.url}")

    page.on("response", note)
    for name in PAGES:
        page.get_by_role("link", name=name, exact=True).click()
        state_is(page, "open")
        assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways at {viewport['width']} px"
        for link in page.locator("header nav a").all():
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0
            assert box["x"] + box["width"] <= viewport["width"], f"{name}: a link runs off"
        expect(page.locator("main h2").first).to_be_visible()
        screenshot(page, f"page-{name.lower()}-{width}")
    assert missing == []


def test_the_phase_chips_are_one_height_while_a_phase_runs(
    demo_server: DemoServer, new_context: Any
) -> None:
    page = log_in(new_context, demo_server, "bob")
    page.get_by_role("link", name="Phases", exact=True).click()
    state_is(page, "open")
    page.get_by_role("button", name="Build report").click()
    expect(page.locator("[data-phase].current")).to_have_count(1)
    boxes = [chip.bounding_box() for chip in page.locator("[data-phase]").all()]
    heights = {round(box["height"]) for box in boxes if box is not None}
    assert len(heights) == 1, heights
