"""Publishing: store the event in the log, then ring the channel layer.

The sync functions work from views, signals, management commands, task queue
workers and the shell; the ``a``-prefixed twins from async code. Inside an
``atomic()`` block the ring waits for the commit, so a rolled-back transaction
publishes nothing, ephemeral events (``persist=False``) included. A failed ring
(layer down) never raises for a persistent event: it is in the log and
subscribers fetch it when their hub resyncs.

A sync call stores the event, queues its ring and returns: the ring leaves from
the hub's loop in a server, or from the process's publisher loop elsewhere
(``django_sse.delivery.ring_loop``), batched with whatever else is queued. The async
twins do the same once their database work is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial

from asgiref.sync import sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.db import router, transaction
from django.db.transaction import TransactionManagementError

from django_sse import models, store
from django_sse.delivery.hub import CLOSE_TYPE
from django_sse.delivery.ring_loop import flush, ringer
from django_sse.delivery.ringer import Item, Note, Ring
from django_sse.outgoing import UnknownUser, check_users, prepare, user_pk
from django_sse.signals import event_published
from django_sse.streams import (
    BROADCAST,
    group_name,
    session_digest,
    topic_stream,
    user_stream,
)

__all__ = ["flush"]  # django_sse.flush


def _announce(items: Sequence[Item], bulk: bool) -> None:
    if event_published.has_listeners():
        for ring in items:
            if isinstance(ring, Ring):
                event_published.send(
                    sender=None, stream=ring.stream, seq=ring.seq, frame=ring.frame, bulk=bulk
                )


def queue(items: Sequence[Item], bulk: bool = False) -> None:
    """Hand ``items`` to the loop that sends them; returns at once (from any thread).
    ``bulk``: they come from the bulk API (the ``event_published`` signal says so)."""
    _announce(items, bulk)
    ringer().put(items)


def queue_on_commit(items: Sequence[Item], bulk: bool = False) -> None:
    """:func:`queue` once the transaction the log was written in commits (at once outside
    ``atomic()``: an ephemeral event never needs a database connection)."""
    using = router.db_for_write(models.Event)
    if not in_atomic_block(using):
        queue(items, bulk)
        return
    transaction.on_commit(partial(queue, items, bulk), using=using)


def in_atomic_block(using: str) -> bool:
    """Whether an ``atomic()`` block is open on ``using``, without connecting.

    ``transaction.get_rollback()`` reads the rollback flag, which exists only inside
    ``atomic()``: outside, it raises ``TransactionManagementError`` and never opens a
    connection, where ``on_commit()`` would.
    """
    try:
        transaction.get_rollback(using=using)
    except TransactionManagementError:
        return False
    return True


def check_sync_context() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise SynchronousOnlyOperation(  # what Django raises for sync ORM calls in a loop
        "django_sse: the sync publish functions cannot run inside an event loop; "
        "await the a-prefixed twin (asend_to_user, abroadcast, ...) instead"
    )


def _store(stream: str, text: str, event: str, persist: bool, user: object) -> int | None:
    """Store (if ``persist``) after checking ``user`` exists, if given, in the same query."""
    if not persist:
        if user is not None:
            check_users([user])
        return None
    seq = store.append(stream, event, text, user_pk=user)
    if seq is None:
        raise UnknownUser([user])
    return seq


def _publish(
    stream: str, data: object, event: str, persist: bool, user: object = None
) -> int | None:
    check_sync_context()
    text, frame = prepare(data, event)
    seq = _store(stream, text, event, persist, user)
    queue_on_commit([Ring(stream, seq, frame)])  # ephemeral too: a rollback tells nobody
    return seq


async def _apublish(
    stream: str, data: object, event: str, persist: bool, user: object = None
) -> int | None:
    text, frame = prepare(data, event)
    if persist or user is not None:
        seq = await sync_to_async(_store)(stream, text, event, persist, user)
    else:
        seq = None
    queue([Ring(stream, seq, frame)])
    return seq


def send_to_user(
    user_or_pk: object, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Send to every connection of one user; return the event's seq (None if not persisted).

    ``user_or_pk`` is a user or its primary key. ``data`` is a ``str`` (sent as is) or
    anything ``DjangoJSONEncoder`` encodes (sent as JSON). ``persist=False`` makes the
    event live only: not stored, never replayed. Inside ``atomic()`` it is sent when the
    transaction commits, and never if it rolls back.

    Raises :class:`django_sse.UnknownUser` (a ``ValueError``) for a user that does not
    exist or is anonymous, ``TypeError`` for data that cannot be encoded, ``ValueError``
    for an event name with CR, LF or NUL, in the reserved ``sse:`` namespace, or an event
    larger than ``SSE_MAX_EVENT_SIZE``; nothing is stored then. Inside an event loop it
    raises ``SynchronousOnlyOperation``: await :func:`asend_to_user` there.
    """
    pk, unchecked = user_pk(user_or_pk)
    return _publish(user_stream(pk), data, event, persist, pk if unchecked else None)


def broadcast(data: object, *, event: str = "message", persist: bool = True) -> int | None:
    """Send to every connection of the endpoint; return the event's seq (None if not
    persisted). ``data``, ``event`` and ``persist`` and what is refused: as
    :func:`send_to_user`."""
    return _publish(BROADCAST, data, event, persist)


def send_to_stream(
    name: str, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Send to the connections following topic ``name`` (``?topic=name``); return the
    event's seq (None if not persisted). ``ValueError`` for a name that is not 1-80
    characters of ``A-Za-z0-9._-``; the rest as :func:`send_to_user`."""
    return _publish(topic_stream(name), data, event, persist)


async def asend_to_user(
    user_or_pk: object, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Async twin of :func:`send_to_user`."""
    pk, unchecked = user_pk(user_or_pk)
    return await _apublish(user_stream(pk), data, event, persist, pk if unchecked else None)


async def abroadcast(data: object, *, event: str = "message", persist: bool = True) -> int | None:
    """Async twin of :func:`broadcast`."""
    return await _apublish(BROADCAST, data, event, persist)


async def asend_to_stream(
    name: str, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Async twin of :func:`send_to_stream`."""
    return await _apublish(topic_stream(name), data, event, persist)


def resend(event: models.Event) -> int | None:
    """Publish a stored event again, as a new event at the head of its stream."""
    return _publish(event.stream, event.data, event.event, persist=True)


def _close_note(user_or_pk: object, session_key: str | None) -> Note:
    pk, _ = user_pk(user_or_pk)
    stream = user_stream(pk)
    session = session_digest(session_key) if session_key else ""
    return Note(group_name(stream), {"type": CLOSE_TYPE, "stream": stream, "session": session})


def close_user_streams(user_or_pk: object, session_key: str | None = None) -> None:
    """End the open streams of a user (of one session only, if given), on every process.

    Their browsers reconnect and are authorized again; django_sse calls this itself
    when a user logs out.
    """
    check_sync_context()
    queue_on_commit([_close_note(user_or_pk, session_key)])


async def aclose_user_streams(user_or_pk: object, session_key: str | None = None) -> None:
    """Async twin of :func:`close_user_streams`."""
    queue([_close_note(user_or_pk, session_key)])
