"""The publish API: what it stores, when it rings, and what it refuses."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import logging
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import SynchronousOnlyOperation
from django.db import OperationalError, connections, transaction
from django.test import override_settings

import django_sse
from django_sse import publish
from django_sse.delivery import ringer
from django_sse.models import Event, read_after
from django_sse.streams import session_digest
from tests.ringkit import RecordingLayer, settled

pytestmark = pytest.mark.django_db(transaction=True)
NOT_TEXT: Any = 5  # what a caller without type checking may pass


@pytest.fixture
def user() -> User:
    return User.objects.create(username=f"u{uuid.uuid4().hex[:8]}")


def stored(stream: str) -> list[tuple[int, str, str]]:
    return read_after(stream, 0, 1000)


def test_send_to_user_stores_in_order_and_rings(layer: RecordingLayer, user: User) -> None:
    assert django_sse.send_to_user(user, {"n": 1}, event="notification") == 1
    assert django_sse.send_to_user(user.pk, "two") == 2
    stream = f"user:{user.pk}"
    assert stored(stream) == [(1, "notification", '{"n":1}'), (2, "message", "two")]
    group = f"sse.user.{user.pk}"
    assert layer.rings == [
        (group, stream, 1, b'event: notification\ndata: {"n":1}\n\n'),
        (group, stream, 2, b"data: two\n\n"),
    ]


def test_broadcast_and_topic_use_their_streams(layer: RecordingLayer) -> None:
    django_sse.broadcast("all")
    django_sse.send_to_stream("orders", "o")
    assert [g for g, *_ in layer.rings] == ["sse.broadcast", "sse.topic.orders"]
    assert stored("topic:orders") == [(1, "message", "o")]


def test_data_is_json_via_django_encoder_and_text_as_is(layer: RecordingLayer) -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    django_sse.broadcast({"at": when, "price": decimal.Decimal("1.50"), "u": "é"})
    django_sse.broadcast("<li>not json</li>")
    assert [d for _, _, d in stored("broadcast")] == [
        '{"at":"2026-01-02T03:04:05Z","price":"1.50","u":"é"}',
        "<li>not json</li>",
    ]


def test_ephemeral_event_rings_without_storing(layer: RecordingLayer) -> None:
    assert django_sse.broadcast("typing", event="typing", persist=False) is None
    assert stored("broadcast") == []
    assert layer.rings[0][2] is None


def test_ring_waits_for_commit_and_rollback_publishes_nothing(layer: RecordingLayer) -> None:
    with transaction.atomic():
        django_sse.broadcast("kept")
        assert layer.sent == []
    assert len(layer.sent) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        django_sse.broadcast("rolled back")
        raise RuntimeError
    assert len(layer.sent) == 1
    assert stored("broadcast") == [(1, "message", "kept")]
    assert django_sse.broadcast("next") == 2  # the rolled-back number was given back


def test_an_ephemeral_event_inside_atomic_waits_for_the_commit(layer: RecordingLayer) -> None:
    with transaction.atomic():
        django_sse.broadcast("typing", persist=False)
        assert layer.sent == []
    assert len(layer.sent) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        django_sse.send_to_users([], "nobody", persist=False)
        django_sse.publish_many([django_sse.Message.to_everyone("gone")], persist=False)
        django_sse.broadcast("gone", persist=False)
        raise RuntimeError
    assert len(layer.sent) == 1  # a rolled-back transaction told nobody


def test_an_ephemeral_event_needs_no_database(
    layer: RecordingLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = connections["default"]
    conn.close()

    def refuse(*args: object) -> None:
        raise conn.Database.OperationalError("the database is down")  # type: ignore[attr-defined]

    monkeypatch.setattr(conn, "get_new_connection", refuse)
    assert django_sse.broadcast("typing", persist=False) is None
    assert len(layer.sent) == 1
    with pytest.raises(OperationalError, match="down"):
        django_sse.broadcast("kept")  # a persistent one needs the log: it says so
    assert len(layer.sent) == 1


def test_dead_layer_keeps_persistent_events_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ringer, "get_channel_layer", lambda alias: RecordingLayer(fail=True))
    with caplog.at_level(logging.WARNING, "django_sse.publish"):
        assert django_sse.broadcast("stored anyway") == 1
        assert django_sse.broadcast("dropped", persist=False) is None
        assert django_sse.flush(5.0)
    assert stored("broadcast") == [(1, "message", "stored anyway")]
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]
    assert "read it from the log" in caplog.records[0].getMessage()
    assert "dropped" in caplog.records[1].getMessage()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (987654, "no user with primary key 987654"),
        ("not-a-number", "no user with primary key 'not-a-number'"),
        (None, "invalid user or primary key: None"),
        (True, "invalid user or primary key: True"),
        (AnonymousUser(), "cannot send to an anonymous user"),
        (User(username="unsaved"), "cannot send to an unsaved user"),
        ("a b", "no user with primary key 'a b'"),
        ("0987654", "no user with primary key 987654"),
    ],
)
def test_send_to_user_refuses_unknown_users(
    layer: RecordingLayer, target: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        django_sse.send_to_user(target, "x")
    assert Event.objects.count() == 0
    assert layer.sent == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: django_sse.send_to_stream("bad name", "x"), ValueError, "invalid topic name"),
        (lambda: django_sse.send_to_stream(NOT_TEXT, "x"), TypeError, "topic name must be a str"),
        (lambda: django_sse.broadcast(object()), TypeError, "cannot be encoded as JSON"),
        (lambda: django_sse.broadcast(b"bytes"), TypeError, "cannot be encoded as JSON"),
        (lambda: django_sse.broadcast(float("nan")), TypeError, "cannot be encoded as JSON"),
        (lambda: django_sse.broadcast("\ud800"), ValueError, "not valid Unicode"),
        (lambda: django_sse.broadcast("x", event="a\nb"), ValueError, "CR, LF or NUL"),
        (lambda: django_sse.broadcast("x", event=""), ValueError, "must not be empty"),
        (lambda: django_sse.broadcast("x", event="e" * 201), ValueError, "longer than 200"),
        (lambda: django_sse.broadcast("x", event=NOT_TEXT), TypeError, "event name must be a str"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    layer: RecordingLayer, call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()
    assert Event.objects.count() == 0
    assert layer.sent == []


async def test_sync_api_refuses_to_run_inside_an_event_loop(layer: RecordingLayer) -> None:
    with pytest.raises(SynchronousOnlyOperation, match="await the a-prefixed twin"):
        django_sse.broadcast("x", persist=False)


async def test_async_twins_store_and_ring(layer: RecordingLayer) -> None:
    user = await User.objects.acreate(username="async-user")
    assert await django_sse.asend_to_user(user, "u") == 1
    assert await django_sse.abroadcast("b") == 1
    assert await django_sse.asend_to_stream("t", "t", persist=False) is None
    await settled()
    assert [g for g, *_ in layer.rings] == [f"sse.user.{user.pk}", "sse.broadcast", "sse.topic.t"]


async def test_async_twins_refuse_bad_input(layer: RecordingLayer) -> None:
    with pytest.raises(ValueError, match="no user with primary key 424242"):
        await django_sse.asend_to_user(424242, "x")
    with pytest.raises(ValueError, match="invalid topic name"):
        await django_sse.asend_to_stream("no spaces", "x")
    with pytest.raises(TypeError, match="cannot be encoded"):
        await django_sse.abroadcast({1, 2})
    assert await Event.objects.acount() == 0


def test_publishers_in_threads_get_distinct_dense_numbers(layer: RecordingLayer) -> None:
    def publish_from_worker(i: int) -> int | None:
        try:
            return django_sse.send_to_stream("threads", i)
        finally:
            connections.close_all()  # as a task queue worker does after each task

    async def publish_many() -> list[int | None]:
        workers = [asyncio.to_thread(publish_from_worker, i) for i in range(40)]
        return list(await asyncio.gather(*workers))

    seqs = asyncio.run(publish_many())
    assert sorted(s for s in seqs if s is not None) == list(range(1, 41))


def test_package_exports_lazily_and_refuses_unknown_names() -> None:
    assert django_sse.broadcast is publish.broadcast
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        django_sse.nope  # noqa: B018


@override_settings(SSE_MAX_EVENT_SIZE=100)
def test_an_event_larger_than_the_limit_is_refused(layer: RecordingLayer) -> None:
    django_sse.broadcast("x" * 80)
    with pytest.raises(
        ValueError, match="event is 108 bytes encoded; SSE_MAX_EVENT_SIZE allows 100"
    ):
        django_sse.broadcast("x" * 100)
    assert len(stored("broadcast")) == 1


def test_close_user_streams_sends_the_session_digest(layer: RecordingLayer, user: User) -> None:
    publish.close_user_streams(user, "secret-session-key")
    publish.close_user_streams(user.pk)
    stream = f"user:{user.pk}"
    assert layer.sent == [
        (
            f"sse.user.{user.pk}",
            {
                "type": "sse.close",
                "stream": stream,
                "session": session_digest("secret-session-key"),
            },
        ),
        (f"sse.user.{user.pk}", {"type": "sse.close", "stream": stream, "session": ""}),
    ]
    assert "secret-session-key" not in str(layer.sent)


async def test_aclose_user_streams_refuses_anonymous(layer: RecordingLayer) -> None:
    with pytest.raises(ValueError, match="cannot send to an anonymous user"):
        await publish.aclose_user_streams(AnonymousUser())
    await publish.aclose_user_streams(7)
    await settled()
    assert layer.sent == [("sse.user.7", {"type": "sse.close", "stream": "user:7", "session": ""})]


def test_a_failed_close_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ringer, "get_channel_layer", lambda alias: RecordingLayer(fail=True))
    publish.close_user_streams(5)
    assert django_sse.flush(5.0)
    assert caplog.messages == ["sse.close for sse.user.5 failed: layer unreachable"]


def test_event_names_in_the_sse_namespace_are_reserved(layer: RecordingLayer) -> None:
    with pytest.raises(ValueError, match="names starting with 'sse:' are reserved: 'sse:reset'"):
        django_sse.broadcast("x", event="sse:reset")
    assert layer.sent == []
