"""Publishing many events in one call: one transaction, one ring per stream at most.

``send_to_users`` tells many users the same thing; ``publish_many`` sends any
mix of :class:`~django_sse.Message`. Everything is checked first (every event
encoded, every user looked up, in a few queries), so one bad recipient refuses
the whole call before anything is stored. The events are stored with one upsert
of the streams' heads and multi-row inserts, and their rings are queued when
the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from asgiref.sync import sync_to_async
from django.db import models as db_models
from django.db.models import QuerySet

from django_sse import store
from django_sse.delivery.ringer import Ring
from django_sse.outgoing import Message, check_users, prepare, user_pk
from django_sse.publish import check_sync_context, queue, queue_on_commit
from django_sse.streams import user_pk_of, user_stream


class _Prepared(NamedTuple):
    rows: list[store.Row]  # (stream, event, text)
    frames: list[bytes]
    unchecked: list[object]  # user primary keys still to be looked up
    pks: list[object]  # send_to_users: the user of each row


def _from_messages(messages: Iterable[Message]) -> _Prepared:
    if isinstance(messages, Message):
        raise TypeError("publish_many() takes an iterable of Message, not one Message")
    rows, frames, unchecked = [], [], []
    for i, message in enumerate(messages):
        if not isinstance(message, Message):
            raise TypeError(f"message {i} is a {type(message).__name__}, not a Message")
        text, frame = prepare(message.data, message.event)
        rows.append((message.stream, message.event, text))
        frames.append(frame)
        pk = user_pk_of(message.stream)
        if pk is not None:
            unchecked.append(user_pk(pk)[0])
    return _Prepared(rows, frames, unchecked, [])


def _from_users(users_or_pks: Iterable[object], data: object, event: str) -> _Prepared:
    if isinstance(users_or_pks, str | bytes | db_models.Model):
        raise TypeError(
            "send_to_users() takes an iterable of users or primary keys; "
            "for one user, call send_to_user()"
        )
    text, frame = prepare(data, event)
    pks: dict[object, None] = {}
    unchecked = []
    for user in users_or_pks:
        pk, check = user_pk(user)
        pks[pk] = None
        if check:
            unchecked.append(pk)
    rows = [(user_stream(pk), event, text) for pk in pks]
    return _Prepared(rows, [frame] * len(rows), unchecked, list(pks))


def _store(prepared: _Prepared, persist: bool) -> list[int | None]:
    """Check the users, store the rows (if ``persist``); their sequence numbers."""
    check_users(prepared.unchecked)
    if not persist:
        return [None] * len(prepared.rows)
    return list(store.append_many(prepared.rows))


def _rings(prepared: _Prepared, seqs: list[int | None]) -> list[Ring]:
    return [
        Ring(row[0], seq, frame)
        for row, seq, frame in zip(prepared.rows, seqs, prepared.frames, strict=True)
    ]


def _publish(prepared: _Prepared, persist: bool) -> list[int | None]:
    seqs = _store(prepared, persist)
    if rings := _rings(prepared, seqs):
        queue_on_commit(rings, bulk=True)  # ephemeral ones too: a rollback tells nobody
    return seqs


async def _apublish(prepared: _Prepared, persist: bool) -> list[int | None]:
    if not prepared.rows:
        return []
    seqs = await sync_to_async(_store)(prepared, persist)
    queue(_rings(prepared, seqs), bulk=True)
    return seqs


def publish_many(messages: Iterable[Message], *, persist: bool = True) -> list[int | None]:
    """Store and send many events at once; each event's seq, in order (None if not persisted).

    Within a stream the events keep their order. ``TypeError``/``ValueError``
    (``UnknownUser`` for a user that does not exist) refuse the whole call
    before anything is stored.
    """
    check_sync_context()
    return _publish(_from_messages(messages), persist)


def send_to_users(
    users_or_pks: Iterable[object], data: object, *, event: str = "message", persist: bool = True
) -> dict[object, int | None]:
    """Send one event to each of many users (each once); their seqs by primary key."""
    check_sync_context()
    prepared = _from_users(users_or_pks, data, event)
    seqs = _publish(prepared, persist)
    return _by_pk(prepared, seqs)


async def apublish_many(messages: Iterable[Message], *, persist: bool = True) -> list[int | None]:
    """Async twin of :func:`publish_many`."""
    return await _apublish(_from_messages(messages), persist)


async def asend_to_users(
    users_or_pks: Iterable[object], data: object, *, event: str = "message", persist: bool = True
) -> dict[object, int | None]:
    """Async twin of :func:`send_to_users`."""
    if isinstance(users_or_pks, QuerySet):  # iterating it queries the database
        prepared = await sync_to_async(_from_users)(users_or_pks, data, event)
    else:
        prepared = _from_users(users_or_pks, data, event)
    return _by_pk(prepared, await _apublish(prepared, persist))


def _by_pk(prepared: _Prepared, seqs: list[int | None]) -> dict[object, int | None]:
    return dict(zip(prepared.pks, seqs, strict=True))
