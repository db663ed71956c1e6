"""The log in the admin: read-only, filterable, with a re-send action; presence, read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

import django_sse
from django_sse.models import Event, Presence, PresenceProcess, read_after

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    return client


def test_changelist_filters_by_stream_kind(admin_client: Client) -> None:
    django_sse.send_to_stream("orders", {"id": 1}, event="order")
    django_sse.broadcast("hello")
    topics = admin_client.get("/admin/django_sse/event/", {"kind": "topic"})
    assert topics.status_code == 200
    assert [e.stream for e in topics.context["cl"].result_list] == ["topic:orders"]
    assert b"open streams on this process: 0" in topics.content


def test_resend_action_publishes_copies_at_the_head(admin_client: Client) -> None:
    django_sse.send_to_stream("orders", "<li>one</li>", event="order")
    django_sse.send_to_stream("orders", {"id": 2}, event="order")
    response = admin_client.post(
        "/admin/django_sse/event/",
        {"action": "resend_events", "_selected_action": [e.pk for e in Event.objects.all()]},
        follow=True,
    )
    assert b"Sent 2 events again." in response.content
    assert read_after("topic:orders", 2, 10) == [
        (3, "order", "<li>one</li>"),
        (4, "order", '{"id":2}'),
    ]


def test_the_log_cannot_be_edited_in_the_admin(admin_client: Client) -> None:
    django_sse.broadcast("x")
    assert admin_client.get("/admin/django_sse/event/add/").status_code == 403
    page = admin_client.get(f"/admin/django_sse/event/{Event.objects.get().pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_presence_lists_the_live_processes_rows_only(admin_client: Client) -> None:
    now = timezone.now()
    PresenceProcess.objects.create(name="alive", expires=now + timedelta(seconds=30))
    PresenceProcess.objects.create(name="dead", expires=now - timedelta(seconds=1))
    Presence.objects.create(connection="c1", stream="broadcast", user_pk="7", process="alive")
    Presence.objects.create(connection="c2", stream="broadcast", user_pk="8", process="dead")
    page = admin_client.get("/admin/django_sse/presence/")
    assert page.status_code == 200
    # The listed rows, not the page's bytes: a random CSRF token may hold "c2".
    assert [row.connection for row in page.context["cl"].result_list] == ["c1"]
    assert admin_client.post("/admin/django_sse/presence/add/").status_code == 403
