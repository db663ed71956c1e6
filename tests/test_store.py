"""Writing the log: the upsert path, the portable path, pruning in a bulk write."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import router
from django.test import override_settings

from django_sse import store
from django_sse.models import Event, Stream, read_after

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["upsert", "portable"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "portable":  # what MySQL, MariaDB and Oracle take
        monkeypatch.setattr(store, "_upsert_returning", lambda connection: False)
    return str(request.param)


def test_append_numbers_each_stream_densely(path: str) -> None:
    assert [store.append("topic:a", "message", str(i)) for i in range(3)] == [1, 2, 3]
    assert store.append("topic:b", "e", "x") == 1
    assert read_after("topic:a", 1, 10) == [(2, "message", "1"), (3, "message", "2")]


def test_append_many_continues_each_stream_in_the_given_order(path: str) -> None:
    store.append("topic:a", "message", "first")
    rows = [("topic:a", "m", "a2"), ("topic:b", "m", "b1"), ("topic:a", "m", "a3")]
    assert store.append_many(rows) == [2, 1, 3]
    assert [d for _, _, d in read_after("topic:a", 0, 10)] == ["first", "a2", "a3"]
    assert dict(Stream.objects.values_list("name", "seq")) == {"topic:a": 3, "topic:b": 1}
    assert store.append_many([]) == []


@override_settings(SSE_MAX_EVENTS_PER_STREAM=10)
def test_a_bulk_write_past_a_prune_mark_prunes_as_single_writes_would(path: str) -> None:
    store.append_many([("topic:p", "m", str(i)) for i in range(130)])  # passes 64 and 128
    assert Event.objects.filter(stream="topic:p").count() == 10
    assert [s for s, _, _ in read_after("topic:p", 0, 100)] == list(range(121, 131))


def test_a_bulk_write_spans_many_statements(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setattr(store, "HEADS_PER_STATEMENT", 3)
    monkeypatch.setattr(store, "EVENTS_PER_INSERT", 4)
    rows = [(f"topic:s{i % 7}", "m", str(i)) for i in range(30)]
    seqs = store.append_many(rows)
    assert Event.objects.count() == 30
    for n in range(7):
        mine = [
            seq for (stream, _, _), seq in zip(rows, seqs, strict=True) if stream == f"topic:s{n}"
        ]
        assert mine == list(range(1, len(mine) + 1))


def test_append_for_a_user_stores_only_if_the_user_exists(path: str) -> None:
    user = User.objects.create(username="here")
    assert store.append(f"user:{user.pk}", "m", "x", user_pk=user.pk) == 1
    assert store.append("user:987654", "m", "x", user_pk=987654) is None
    assert Event.objects.count() == 1
    assert not Stream.objects.filter(name="user:987654").exists()


def test_users_in_another_database_are_looked_up_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "db_for_read", lambda model, **hints: "users")
    assert store._user_guard(store._db(), 5) is None
    monkeypatch.undo()
    assert store.append("user:987654", "m", "x", user_pk=987654) is None


@pytest.mark.skipif(store._db().vendor != "sqlite", reason="the trigger is SQLite's")
def test_on_sqlite_an_event_written_by_hand_moves_its_head_too() -> None:
    # The trigger a single-statement append relies on: the head follows the log.
    Event.objects.create(stream="topic:t", seq=7, event="m", data="x")
    Event.objects.create(stream="topic:t", seq=3, event="m", data="x")  # never backwards
    assert Stream.objects.get(name="topic:t").seq == 7
    assert store.append("topic:t", "m", "y") == 8
