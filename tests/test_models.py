"""The log's retention and reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django.utils import timezone

from django_sse import models
from django_sse.models import Event, Stream, append, prune, read_after, read_heads

pytestmark = pytest.mark.django_db(transaction=True)


def test_heads_are_zero_for_streams_never_written() -> None:
    append("topic:a", "message", "x")
    assert read_heads(["topic:a", "topic:b"]) == {"topic:a": 1, "topic:b": 0}


def test_read_after_pages_in_order() -> None:
    for i in range(5):
        append("topic:a", "e", str(i))
    assert read_after("topic:a", 1, 2) == [(2, "e", "1"), (3, "e", "2")]
    assert read_after("topic:a", 5, 10) == []


@override_settings(SSE_MAX_EVENTS_PER_STREAM=3, SSE_EVENT_TTL=3600)
def test_prune_keeps_the_newest_per_stream_and_drops_the_old() -> None:
    for i in range(6):
        append("topic:a", "message", str(i))
    append("topic:b", "message", "old")
    Event.objects.filter(stream="topic:b").update(created=timezone.now() - timedelta(hours=2))
    assert prune() == 4
    assert [seq for seq, _, _ in read_after("topic:a", 0, 10)] == [4, 5, 6]
    assert read_after("topic:b", 0, 10) == []
    assert read_heads(["topic:a", "topic:b"]) == {"topic:a": 6, "topic:b": 1}  # heads stay


@override_settings(SSE_MAX_EVENTS_PER_STREAM=10)
def test_publishing_prunes_its_stream_now_and_then() -> None:
    for i in range(models.PRUNE_EVERY):
        append("topic:busy", "message", str(i))
    assert Event.objects.filter(stream="topic:busy").count() == 10


@override_settings(SSE_MAX_EVENTS_PER_STREAM=1)
def test_sse_prune_command_reports_what_it_deleted(capsys: pytest.CaptureFixture[str]) -> None:
    append("topic:a", "message", "1")
    append("topic:a", "message", "2")
    call_command("sse_prune")
    assert capsys.readouterr().out == "Deleted 1 events.\n"


def test_admin_shows_the_log_read_only() -> None:
    admin = site._registry[Event]
    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, None)
    assert not admin.has_delete_permission(request, None)


def test_str_of_rows() -> None:
    append("topic:a", "tick", "x")
    assert str(Event.objects.get()) == "topic:a #1 tick"
    assert str(Stream.objects.get()) == "topic:a @ 1"
