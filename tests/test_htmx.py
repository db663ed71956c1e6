"""htmx's sse extension on the endpoint, in headless Chromium against the demo:
HTML fragments rendered by the server are swapped in where the page opted in
(``sse-swap``), and event data is never inserted as HTML anywhere else."""

from __future__ import annotations

import json
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
    restart,
    screenshot,
    state_is,
)

pytestmark = pytest.mark.e2e

# Runs if anything inserts it as HTML (onerror fires for an image that fails).
ATTACK = '<img src="/no-such-image" onerror="window.attacked = true">'


def open_htmx_page(new_context: Any, server: DemoServer, username: str) -> Any:
    page = log_in(new_context, server, username)
    page.get_by_role("link", name="htmx", exact=True).click()
    state_is(page, "open")  # the extension's EventSource, as the header's dot shows it
    return page


def send_card(page: Any, to: str, text: str) -> None:
    page.get_by_label("Recipient").select_option(to)
    page.get_by_label("Card text").fill(text)
    page.get_by_role("button", name="Send card").click()
    expect(page.get_by_label("Card text")).to_have_value("")  # emptied once the POST succeeded


def attacked(page: Any) -> bool:
    return bool(page.evaluate("window.attacked === true"))


def test_a_card_rendered_by_the_server_is_swapped_into_its_recipients_page(
    demo_server: DemoServer, new_context: Any
) -> None:
    alice = open_htmx_page(new_context, demo_server, "alice")
    bob = open_htmx_page(new_context, demo_server, "bob")

    send_card(alice, "bob", "Lunch at noon?")
    send_card(alice, "bob", ATTACK)  # the card's template escapes it: text, not an element
    expect(bob.locator("#cards li strong")).to_have_text(["alice", "alice"])
    expect(bob.locator("#cards li span")).to_have_text([ATTACK, "Lunch at noon?"])
    expect(bob.locator("#cards li time")).to_have_count(2)
    assert bob.locator("#cards img").count() == 0
    assert not attacked(bob)

    send_card(alice, "alice", "Note to self")  # after bob's cards, on alice's stream alone
    expect(alice.locator("#cards li span")).to_have_text(["Note to self"])
    expect(bob.locator("#cards li")).to_have_count(2)
    screenshot(bob, "htmx")


def test_the_htmx_page_shows_notifications_and_says_what_the_server_refused(
    demo_server: DemoServer, new_context: Any
) -> None:
    alice = open_htmx_page(new_context, demo_server, "alice")
    bob = log_in(new_context, demo_server, "bob")  # on the notifications page
    bob.get_by_label("Message").fill("Seen my card?")
    bob.get_by_role("button", name="Send").click()
    expect(alice.locator(".toast")).to_have_text(["bobSeen my card?"])  # by the extension's stream
    expect(alice.locator("#unread")).to_have_text("1")

    alice.get_by_label("Card text").fill("   ")  # passes `required`, blank to the server
    alice.get_by_role("button", name="Send card").click()
    expect(alice.get_by_role("alert")).to_have_text("Choose someone and write a message.")
    send_card(alice, "bob", "Now with words")
    expect(alice.get_by_role("alert")).to_be_hidden()


def test_a_card_sent_while_the_server_was_down_is_swapped_in_once_after_the_restart(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    bob = open_htmx_page(new_context, demo_server, "bob")
    demo_backend.manage("demo_post", "--card", "--to", "bob", "before")  # another process
    expect(bob.locator("#cards li span")).to_have_text(["before"])

    demo_server.stop()
    state_is(bob, "reconnecting")
    demo_backend.manage("demo_post", "--card", "--to", "bob", "while the server was down")
    restart(demo_server)
    state_is(bob, "open")
    alice = open_htmx_page(new_context, demo_server, "alice")
    send_card(alice, "bob", "after the restart")

    cards = ["after the restart", "while the server was down", "before"]
    expect(bob.locator("#cards li span")).to_have_text(cards)


def test_an_event_the_page_did_not_opt_into_is_not_swapped_in(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    alice = open_htmx_page(new_context, demo_server, "alice")
    bob = open_htmx_page(new_context, demo_server, "bob")
    demo_backend.manage("sse_send", "--user", "bob", "--event", "notification", ATTACK)
    demo_backend.manage("sse_send", "--user", "bob", "--event", "feed", ATTACK)
    send_card(alice, "bob", "after the others")  # bob's stream delivers in order

    expect(bob.locator("#cards li span")).to_have_text(["after the others"])
    assert bob.locator("img").count() == 0
    assert not attacked(bob)


def test_event_data_reaches_a_sse_script_page_as_text_only(
    demo_server: DemoServer, demo_backend: DemoBackend, new_context: Any
) -> None:
    received = "window.received = [];\n" + "".join(
        f"document.addEventListener('sse:{name}', (e) => received.push([e.type, e.detail]));\n"
        for name in ("notification", "feed")
    )
    bob = log_in(new_context, demo_server, "bob", init_script=received)
    bob.get_by_role("link", name="Recovery").click()
    state_is(bob, "open")
    demo_backend.manage("sse_send", "--user", "bob", "--event", "notification", ATTACK)
    demo_backend.manage("sse_send", "--broadcast", "--event", "feed", ATTACK)

    log = bob.locator("#log li").filter(has_text=json.dumps(ATTACK))  # as the page prints it
    expect(log).to_have_count(2)
    # Two streams (bob's and broadcast): each in order, not in order with each other.
    assert sorted(bob.evaluate("received")) == [["sse:feed", ATTACK], ["sse:notification", ATTACK]]
    assert bob.locator("img").count() == 0
    assert not attacked(bob)
    expect(bob.locator(".toast")).to_have_count(0)  # not the demo's own: not shown
    expect(bob.locator("#unread")).to_be_hidden()
