"""The demo, clicked through in headless Chromium: two people, notifications, the
feed, and the recovery page's instructions followed to the letter."""

from __future__ import annotations

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
    reconnected_states,
    restart,
    screenshot,
    state_is,
)

pytestmark = pytest.mark.e2e


def test_notifications_reach_only_their_person_and_the_feed_everyone(
    demo_server: DemoServer, new_context: Any
) -> None:
    alice = log_in(new_context, demo_server, "alice")
    bob = log_in(new_context, demo_server, "bob")
    for page in (alice, bob):
        page.get_by_role("link", name="Feed").click()
        state_is(page, "open")
    alice.get_by_placeholder("Post to everyone…").fill("<b>hi</b> everyone")
    alice.get_by_role("button", name="Post").click()
    for page in (alice, bob):
        expect(page.locator("#feed li")).to_have_text(["alice <b>hi</b> everyone"])

    for page in (alice, bob):
        page.get_by_role("link", name="Notifications").click()
        state_is(page, "open")
    alice.get_by_label("Message").fill("Lunch at noon?")
    alice.get_by_role("button", name="Send").click()
    expect(bob.locator(".toast")).to_have_text(["aliceLunch at noon?"])
    expect(bob.locator("#unread")).to_have_text("1")
    expect(bob.locator("#notifications li.unread")).to_have_text(["alice Lunch at noon?"])
    screenshot(bob, "demo")

    bob.get_by_label("Message").fill("Yes!")
    bob.get_by_role("button", name="Send").click()
    expect(alice.locator(".toast")).to_have_text(["bobYes!"])  # and never her own
    expect(alice.locator("#unread")).to_have_text("1")

    bob.reload()  # rendered from the database, resumed from the render: no doubles
    state_is(bob, "open")
    expect(bob.locator("#notifications li")).to_have_text(["alice Lunch at noon?"])
    bob.get_by_role("button", name="Mark all read").click()
    expect(bob.locator("#unread")).to_be_hidden()
    expect(bob.locator("#notifications li.unread")).to_have_count(0)


def test_recovery_page_shows_what_was_published_while_the_server_was_down(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    bob = log_in(new_context, demo_server, "bob")
    bob.get_by_role("link", name="Recovery").click()
    state_is(bob, "open")

    demo_server.stop()
    state_is(bob, "reconnecting")
    demo_backend.manage("demo_post", "posted while the server was down")
    demo_backend.manage("demo_post", "--to", "bob", "a notification for you")
    restart(demo_server)
    state_is(bob, "open")
    demo_backend.manage("demo_post", "posted after the restart")

    log = bob.locator("#log li")
    expect(log.filter(has_text="posted after the restart")).to_have_count(1)
    expect(log.filter(has_text="posted while the server was down")).to_have_count(1)
    expect(log.filter(has_text="a notification for you")).to_have_count(1)
    states = [text.split()[-1] for text in log.filter(has_text=" state ").all_inner_texts()]
    states.reverse()  # the log shows the newest first
    assert states == reconnected_states(states)
    expect(bob.locator("#unread")).to_have_text("1")


def test_the_room_shows_who_comes_and_goes_and_a_kick_takes_it_away_at_once(
    demo_server: DemoServer, new_context: Any
) -> None:
    alice = log_in(new_context, demo_server, "alice")
    alice.get_by_role("link", name="Room").click()
    state_is(alice, "open")
    expect(alice.locator("#tab-role")).to_have_text("the leader")
    bob = log_in(new_context, demo_server, "bob")
    bob.get_by_role("link", name="Room").click()
    state_is(bob, "open")
    expect(alice.locator("#here li")).to_have_text(["alice", "bob"])  # sse:join
    expect(bob.locator("#here li")).to_contain_text(["alice", "bob"])

    alice.get_by_label("Who").select_option("bob")
    alice.get_by_role("button", name="Kick out").click()
    expect(bob.locator("#revoked")).to_be_visible()  # sse:revoked, in bob's open tab
    expect(alice.locator("#here li")).to_have_text(["alice"], timeout=10_000)  # sse:leave
    state_is(bob, "open")  # his other streams go on: a notification still arrives
    alice.get_by_role("link", name="Notifications").click()
    alice.get_by_label("Message").fill("Still there?")
    alice.get_by_role("button", name="Send").click()
    expect(bob.locator(".toast")).to_have_text(["aliceStill there?"])
