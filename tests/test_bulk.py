"""The bulk API: one transaction, dense numbers per stream, few rings, refused whole."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import SynchronousOnlyOperation
from django.db import transaction

import django_sse
from django_sse import Message, UnknownUser
from django_sse.delivery import ringer
from django_sse.models import Event, Stream, read_after
from tests.ringkit import RecordingLayer, settled

pytestmark = pytest.mark.django_db(transaction=True)
NOT_A_MESSAGE: Any = ("topic:x", "data")
ONE_MESSAGE: Any = Message.to_everyone(1)  # not in a list


def make_users(n: int) -> list[User]:
    tag = uuid.uuid4().hex[:6]
    return User.objects.bulk_create([User(username=f"{tag}{i}") for i in range(n)])


def stored(stream: str) -> list[tuple[int, str, str]]:
    return read_after(stream, 0, 1000)


def test_send_to_users_stores_one_event_each_and_rings_every_hub_once(
    layer: RecordingLayer,
) -> None:
    users = make_users(20)
    seqs = django_sse.send_to_users(users, {"n": 1}, event="note")
    assert seqs == {u.pk: 1 for u in users}
    for u in users:
        assert stored(f"user:{u.pk}") == [(1, "note", '{"n":1}')]
    ((group, message),) = layer.sent  # 20 streams: one message to every hub
    assert group == "sse.hubs"
    assert message["frames"] == [b'event: note\ndata: {"n":1}\n\n']  # the frame travels once
    assert sorted(message["items"]) == sorted((f"user:{u.pk}", 1, 0) for u in users)


def test_send_to_users_takes_primary_keys_querysets_and_duplicates_once(
    layer: RecordingLayer,
) -> None:
    users = make_users(3)
    pks = [str(u.pk) for u in users] + [users[0].pk]
    assert django_sse.send_to_users(pks, "a") == {u.pk: 1 for u in users}
    queryset = User.objects.filter(pk__in=[u.pk for u in users])
    assert django_sse.send_to_users(queryset, "b") == {u.pk: 2 for u in users}
    assert [g for g, *_ in layer.rings] == [f"sse.user.{u.pk}" for u in users] * 2


def test_publish_many_keeps_order_and_density_per_stream(layer: RecordingLayer) -> None:
    (user,) = make_users(1)
    django_sse.send_to_stream("a", "before")
    seqs = django_sse.publish_many(
        [
            Message.to_topic("a", "a2"),
            Message.to_everyone("all"),
            Message.to_topic("a", "a3", event="late"),
            Message.to_user(user, {"u": 1}),
            Message("topic:b", "b1"),
        ]
    )
    assert seqs == [2, 1, 3, 1, 1]
    assert stored("topic:a") == [(1, "message", "before"), (2, "message", "a2"), (3, "late", "a3")]
    # In the order published, across streams too; no stream is sent to twice in a batch.
    assert [(s, q) for _, s, q, _ in layer.rings] == [
        ("topic:a", 1),
        ("topic:a", 2),
        ("broadcast", 1),
        ("topic:a", 3),
        (f"user:{user.pk}", 1),
        ("topic:b", 1),
    ]


def test_heads_move_by_the_whole_batch(layer: RecordingLayer) -> None:
    django_sse.publish_many([Message.to_topic("h", i) for i in range(130)])
    assert Stream.objects.get(name="topic:h").seq == 130
    assert django_sse.send_to_stream("h", "next") == 131


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda u: django_sse.send_to_users([u, 987654], "x"), UnknownUser, "987654"),
        (
            lambda u: django_sse.send_to_users([u, *range(900001, 900008)], "x"),
            UnknownUser,
            r"no users with primary keys 900001, 900002, 900003, 900004, 900005 \(and 2 more\)",
        ),
        (lambda u: django_sse.send_to_users([u, "x y"], "x"), UnknownUser, "'x y'"),
        (lambda u: django_sse.send_to_users([u, None], "x"), ValueError, "invalid user"),
        (lambda u: django_sse.send_to_users(u, "x"), TypeError, "for one user, call"),
        (lambda u: django_sse.send_to_users("12", "x"), TypeError, "iterable of users"),
        (lambda u: django_sse.send_to_users([u], object()), TypeError, "cannot be encoded"),
        (lambda u: django_sse.send_to_users([u], "x", event="sse:x"), ValueError, "reserved"),
        (
            lambda u: django_sse.publish_many([Message.to_user(u, 1), Message("user:424242", 2)]),
            UnknownUser,
            "no user with primary key 424242",
        ),
        (
            lambda u: django_sse.publish_many([Message.to_everyone(1), NOT_A_MESSAGE]),
            TypeError,
            "message 1 is a tuple, not a Message",
        ),
        (
            lambda u: django_sse.publish_many([Message.to_everyone(1), Message.to_everyone({1})]),
            TypeError,
            "cannot be encoded",
        ),
        (lambda u: django_sse.publish_many(ONE_MESSAGE), TypeError, "not one Message"),
        (lambda u: Message("orders", 1), ValueError, "invalid stream name 'orders'"),
        (lambda u: Message("topic:no spaces", 1), ValueError, "invalid topic name"),
        (lambda u: Message.to_topic("ok", 1, event="a\nb"), ValueError, "CR, LF or NUL"),
    ],
)
def test_bad_input_refuses_the_whole_call_before_anything_is_stored(
    layer: RecordingLayer, call: Any, error: type[Exception], message: str
) -> None:
    (user,) = make_users(1)
    with pytest.raises(error, match=message):
        call(user)
    assert Event.objects.count() == 0
    assert Stream.objects.count() == 0
    assert layer.sent == []


def test_unknown_user_error_names_the_keys() -> None:
    with pytest.raises(UnknownUser) as info:
        django_sse.send_to_users([424242, 434343], "x")
    assert info.value.pks == [424242, 434343]


def test_rolled_back_bulk_publish_stores_and_rings_nothing(layer: RecordingLayer) -> None:
    users = make_users(12)
    with pytest.raises(RuntimeError), transaction.atomic():
        django_sse.send_to_users(users, "gone")
        django_sse.publish_many([Message.to_topic("t", 1)])
        raise RuntimeError
    assert Event.objects.count() == 0
    assert layer.sent == []
    with transaction.atomic():
        django_sse.send_to_users(users, "kept")
        assert layer.sent == []  # the ring waits for the commit
    assert len(layer.rings) == 12
    assert django_sse.send_to_user(users[0], "next") == 2  # numbers were given back


def test_layer_down_during_bulk_stores_everything_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ringer, "get_channel_layer", lambda alias: RecordingLayer(fail=True))
    users = make_users(30)
    with caplog.at_level(logging.ERROR, "django_sse.publish"):
        seqs = django_sse.send_to_users(users, "stored anyway")
        assert django_sse.flush(5.0)
    assert set(seqs.values()) == {1}
    assert Event.objects.count() == 30
    assert caplog.messages == [
        "rings for 30 events failed (layer unreachable); subscribers will read them from the log"
    ]


def test_ephemeral_bulk_rings_without_storing(layer: RecordingLayer) -> None:
    users = make_users(2)
    assert django_sse.send_to_users(users, "typing", persist=False) == {u.pk: None for u in users}
    assert django_sse.publish_many([Message.to_topic("p", 1)], persist=False) == [None]
    assert Event.objects.count() == 0
    assert [q for _, _, q, _ in layer.rings] == [None, None, None]


def test_empty_input_does_nothing(layer: RecordingLayer) -> None:
    assert django_sse.send_to_users([], "x") == {}
    assert django_sse.publish_many([]) == []
    assert layer.sent == []


async def test_async_twins_store_ring_and_refuse(layer: RecordingLayer) -> None:
    user = await User.objects.acreate(username=f"a{uuid.uuid4().hex[:6]}")
    assert await django_sse.asend_to_users([user.pk], "u") == {user.pk: 1}
    assert await django_sse.asend_to_users(User.objects.filter(pk=user.pk), "v") == {user.pk: 2}
    assert await django_sse.apublish_many([Message.to_topic("t", 1), Message.to_topic("t", 2)]) == [
        1,
        2,
    ]
    with pytest.raises(UnknownUser):
        await django_sse.asend_to_users([user.pk, 515151], "x")
    assert await django_sse.apublish_many([]) == []
    await settled()
    assert [(g, q) for g, _, q, _ in layer.rings] == [
        (f"sse.user.{user.pk}", 1),
        (f"sse.user.{user.pk}", 2),
        ("sse.topic.t", 1),
        ("sse.topic.t", 2),
    ]
    assert await Event.objects.acount() == 4


async def test_sync_bulk_refuses_to_run_inside_an_event_loop() -> None:
    with pytest.raises(SynchronousOnlyOperation, match="a-prefixed twin"):
        django_sse.send_to_users([1], "x")
    with pytest.raises(SynchronousOnlyOperation, match="a-prefixed twin"):
        django_sse.publish_many([])
