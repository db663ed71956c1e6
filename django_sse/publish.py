"""Publishing: store the event in the log, then ring the channel layer.

The sync functions work from views, signals, management commands, task queue
workers and the shell; the ``a``-prefixed twins from async code. Inside an
``atomic()`` block the ring waits for the commit, so a rolled-back transaction
publishes nothing. A failed ring (layer down) never raises for a persistent
event: it is in the log and subscribers fetch it when their hub resyncs.

A sync call stores the event, queues its ring and returns: the ring leaves from
the hub's loop in a server, or from the process's publisher loop elsewhere
(``django_sse.ring_loop``), batched with whatever else is queued. An async call
waits until the layer has its ring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from asgiref.sync import sync_to_async
from django.db import router, transaction

from django_sse import models, store
from django_sse.hub import CLOSE_TYPE, running_hub
from django_sse.outgoing import check_users, encode_data, prepare, user_pk
from django_sse.ring_loop import flush, ringer
from django_sse.ringer import Item, Note, Ring, ringer_for
from django_sse.signals import event_published
from django_sse.streams import (
    BROADCAST,
    group_name,
    session_digest,
    topic_stream,
    user_stream,
)

__all__ = ["encode_data", "flush"]


def _announce(items: Sequence[Item]) -> None:
    if event_published.has_listeners():
        for ring in items:
            if isinstance(ring, Ring):
                event_published.send(
                    sender=None, stream=ring.stream, seq=ring.seq, frame=ring.frame
                )


def queue(items: Sequence[Item]) -> None:
    """Hand ``items`` to the loop that sends them; returns at once (sync callers)."""
    _announce(items)
    ringer().put(items)


def queue_on_commit(items: Sequence[Item]) -> None:
    """:func:`queue` once the transaction the log was written in commits."""
    using = router.db_for_write(models.Event)
    transaction.on_commit(lambda: queue(items), using=using)


async def aring(items: Sequence[Item]) -> None:
    """Send ``items`` and wait until the layer has them (async callers)."""
    _announce(items)
    loop = asyncio.get_running_loop()
    hub = running_hub()
    if hub is not None and hub.loop is not loop:
        # The in-memory layer's queues belong to the hub's loop.
        coro = ringer_for(hub.loop).ring(items)
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, hub.loop))
    else:
        await ringer_for(loop).ring(items)


def check_sync_context() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "django_sse: the sync publish functions cannot run inside an event loop; "
        "await the a-prefixed twin (asend_to_user, abroadcast, ...) instead"
    )


def _publish(stream: str, data: object, event: str, persist: bool) -> int | None:
    check_sync_context()
    text, frame = prepare(data, event)
    if not persist:
        queue([Ring(stream, None, frame)])
        return None
    seq = store.append(stream, event, text)
    queue_on_commit([Ring(stream, seq, frame)])
    return seq


async def _apublish(stream: str, data: object, event: str, persist: bool) -> int | None:
    text, frame = prepare(data, event)
    seq = await sync_to_async(store.append)(stream, event, text) if persist else None
    await aring([Ring(stream, seq, frame)])
    return seq


def _checked_user_stream(user_or_pk: object, check: Callable[[list[object]], None]) -> str:
    pk, unchecked = user_pk(user_or_pk)
    if unchecked:
        check([pk])
    return user_stream(pk)


def send_to_user(
    user_or_pk: object, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Send to every connection of one user; return the event's seq (None if not persisted)."""
    stream = _checked_user_stream(user_or_pk, check_users)
    return _publish(stream, data, event, persist)


def broadcast(data: object, *, event: str = "message", persist: bool = True) -> int | None:
    """Send to every connection of the endpoint."""
    return _publish(BROADCAST, data, event, persist)


def send_to_stream(
    name: str, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Send to the connections following topic ``name`` (``?topic=name``)."""
    return _publish(topic_stream(name), data, event, persist)


async def asend_to_user(
    user_or_pk: object, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Async twin of :func:`send_to_user`."""
    pk, unchecked = user_pk(user_or_pk)
    if unchecked:
        await sync_to_async(check_users)([pk])
    return await _apublish(user_stream(pk), data, event, persist)


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
    await aring([_close_note(user_or_pk, session_key)])
