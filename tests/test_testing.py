"""django_sse.testing: capturing what is published, reading what the endpoint sends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings

import django_sse
from django_sse import publish
from django_sse.cursor import Cursor
from django_sse.delivery.hub import get_hub
from django_sse.testing import (
    PublishedEvent,
    ReceivedEvent,
    StreamRefused,
    _Parser,
    capture_events,
    open_stream,
    read_events,
)

CaptureCallbacks = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def allow_all(user: object, stream: str) -> bool:
    return True


def cursor(**positions: int) -> str:
    return Cursor(positions, positions).encode()


# capture_events ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_capture_records_sync_publishes() -> None:
    user = User.objects.create(username="alice")
    with capture_events() as events:
        django_sse.send_to_user(user, {"n": 1}, event="note")
        django_sse.broadcast("<li>hi</li>")
        django_sse.send_to_stream("orders", "typing", persist=False)
    assert events == [
        PublishedEvent(f"user:{user.pk}", "note", '{"n":1}', 1),
        PublishedEvent("broadcast", "message", "<li>hi</li>", 1),
        PublishedEvent("topic:orders", "message", "typing", None),
    ]
    assert events[0].json() == {"n": 1}
    assert [e.persist for e in events] == [True, True, False]


@pytest.mark.django_db(transaction=True)
async def test_capture_records_async_publishes() -> None:
    user = await User.objects.acreate(username="bob")
    with capture_events() as events:
        await django_sse.asend_to_user(user.pk, "u")
        await django_sse.abroadcast([1, 2], event="list")
        await django_sse.asend_to_stream("orders", "o", persist=False)
    assert events == [
        PublishedEvent(f"user:{user.pk}", "message", "u", 1),
        PublishedEvent("broadcast", "list", "[1,2]", 1),
        PublishedEvent("topic:orders", "message", "o", None),
    ]


@pytest.mark.django_db(transaction=True)
def test_capture_records_on_commit_and_nothing_on_rollback() -> None:
    with capture_events() as events:
        with transaction.atomic():
            django_sse.broadcast("kept")
            assert events == []
        assert [e.data for e in events] == ["kept"]
        with pytest.raises(RuntimeError), transaction.atomic():
            django_sse.broadcast("rolled back")
            raise RuntimeError
    assert [e.data for e in events] == ["kept"]


@pytest.mark.django_db
def test_in_a_test_transaction_events_wait_for_on_commit_callbacks(
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    with capture_events() as events:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            django_sse.broadcast("held")
        assert (len(callbacks), events) == (1, [])
        with django_capture_on_commit_callbacks(execute=True):
            django_sse.broadcast("sent")
    assert [(e.data, e.seq) for e in events] == [("sent", 2)]


@pytest.mark.django_db(transaction=True)
def test_capture_gives_data_as_a_browser_reads_it() -> None:
    with capture_events() as events:
        django_sse.broadcast("a\r\nb\rc\n")
    assert events[0].data == "a\nb\nc\n"


@pytest.mark.django_db(transaction=True)
def test_nested_captures_both_record_and_leaving_restores_publishing() -> None:
    send = publish.queue
    with capture_events() as outer:
        django_sse.broadcast("one")
        with capture_events() as inner:
            django_sse.broadcast("two")
    django_sse.broadcast("three")
    assert [e.data for e in outer] == ["one", "two"]
    assert [e.data for e in inner] == ["two"]
    assert publish.queue is send


# open_stream and read_events ---------------------------------------------------------

stream_db = pytest.mark.django_db(transaction=True)  # the endpoint reads on worker threads


@stream_db
async def test_open_stream_is_live_on_entry_and_captured_events_are_delivered() -> None:
    async with open_stream() as stream:
        with capture_events() as published:
            await django_sse.abroadcast("one")
            await django_sse.abroadcast("two", event="typing", persist=False)
        received = await stream.read(2)
    assert [(e.event, e.data) for e in published] == [("message", "one"), ("typing", "two")]
    assert received == [
        ReceivedEvent("message", "one", cursor(broadcast=1)),
        ReceivedEvent("typing", "two", cursor(broadcast=1)),
    ]
    assert (stream.status, stream.headers["content-type"]) == (200, "text/event-stream")
    assert (stream.retry, stream.comments) == (3000, ["connected"])


@stream_db
async def test_open_stream_as_a_user_gets_the_user_stream() -> None:
    alice = await User.objects.acreate(username="alice")
    async with open_stream(user=alice) as stream:
        await django_sse.asend_to_user(alice, {"to": "alice"}, event="note")
        (event,) = await stream.read(1)
    assert (event.event, event.json()) == ("note", {"to": "alice"})


@stream_db
@override_settings(SSE_AUTHORIZE="tests.test_testing.allow_all")
async def test_open_stream_follows_topics() -> None:
    async with open_stream(topics=["orders", "news"]) as stream:
        await django_sse.asend_to_stream("news", "n")
        await django_sse.asend_to_stream("orders", "o")
        events = await stream.read(2)
    assert [e.data for e in events] == ["n", "o"]


@stream_db
async def test_read_events_after_a_cursor_gets_exactly_the_missed_events() -> None:
    async with open_stream() as stream:
        await django_sse.abroadcast("seen")
        (seen,) = await stream.read(1)
    await django_sse.abroadcast("missed 1")
    await django_sse.abroadcast("missed 2")
    events = await read_events(count=2, last_event_id=seen.id)
    assert [(e.data, e.id) for e in events] == [
        ("missed 1", cursor(broadcast=2)),
        ("missed 2", cursor(broadcast=3)),
    ]


@stream_db
async def test_a_refused_stream_raises_with_status_and_body() -> None:
    with pytest.raises(StreamRefused, match=r"^403: Not allowed: topic:secret$") as refused:
        await read_events(count=1, topics=["secret"])
    assert (refused.value.status, refused.value.body) == (403, b"Not allowed: topic:secret")


@stream_db
async def test_a_path_that_is_not_a_stream_is_refused() -> None:
    with pytest.raises(StreamRefused, match=r"^200: django-sse-\d_0$") as refused:
        await read_events("/thread/", count=1)
    assert refused.value.status == 200


@stream_db
async def test_read_fails_when_too_few_events_come_in_time() -> None:
    async with open_stream() as stream:
        await django_sse.abroadcast("only one")
        with pytest.raises(
            AssertionError,
            match=r"^expected 2 events, got 1 \(none more within 0.05 s\): "
            r"\[ReceivedEvent\(event='message', data='only one', id='[^']+'\)\]$",
        ):
            await stream.read(2, timeout=0.05)


@stream_db
@override_settings(SSE_MAX_CONNECTION_AGE=0.05)
async def test_read_fails_when_the_stream_ends_first() -> None:
    async with open_stream() as stream:
        with pytest.raises(AssertionError, match=r"^expected 1 events, got 0 \(the stream ended\)"):
            await stream.read(1)
        assert stream.closed


@stream_db
async def test_leaving_disconnects_and_the_hub_forgets_the_connection() -> None:
    async with open_stream() as stream:
        assert get_hub().stats()["subscriptions"] == 1
    assert stream.closed
    assert get_hub().stats()["subscriptions"] == 0


# The parser --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"data: a\n\n"], [("message", "a", "")]),
        ([b"event: x\ndata: a\ndata:b\nid: 7\n\n"], [("x", "a\nb", "7")]),
        ([b"data: a\r", b"\ndata: b\r\n\r\n"], [("message", "a\nb", "")]),
        ([b"data: a\rdata: b\r\r"], [("message", "a\nb", "")]),  # a CR ends a line at once
        ([b"data: a\rdata: b\r", b"\n\r"], [("message", "a\nb", "")]),  # and its LF ends nothing
        ([b"id: 1\n\n", b": hi\n\nevent: e\n\n", b"data\n\n"], [("message", "", "1")]),
        (
            [b"id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n"],
            [("message", "a", "1"), ("message", "b", "1")],
        ),
        ([b"data: a\n"], []),
    ],
)
def test_parser_reads_the_event_stream_format(
    chunks: list[bytes], expected: list[tuple[str, str, str]]
) -> None:
    parser = _Parser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    assert [(e.event, e.data, e.id) for e in events] == expected


def test_parser_keeps_retry_and_comments() -> None:
    parser = _Parser()
    parser.feed(b"retry: 500\n: one\n:two\nretry: x\n\n")
    assert (parser.retry, parser.comments) == (500, ["one", "two"])
