"""Publishing: store the event in the log, then ring the channel layer.

The sync functions work from views, signals, management commands, task queue
workers and the shell; the ``a``-prefixed twins from async code. Inside an
``atomic()`` block the ring waits for the commit, so a rolled-back transaction
publishes nothing. A failed ring (layer down) never raises for a persistent
event: it is in the log and subscribers fetch it when their hub resyncs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from django_sse import models
from django_sse.conf import conf
from django_sse.hub import CLOSE_TYPE, RING_TYPE, running_hub
from django_sse.signals import event_published
from django_sse.streams import (
    BROADCAST,
    group_name,
    session_digest,
    topic_stream,
    user_stream,
)
from django_sse.wire import check_event_name, encode_event

logger = logging.getLogger("django_sse.publish")

THREAD_RING_TIMEOUT = 5.0  # seconds a publisher thread waits for the hub's loop


def encode_data(data: object) -> str:
    """``str`` as is; anything else as JSON via ``DjangoJSONEncoder``."""
    if isinstance(data, str):
        return data
    try:
        return json.dumps(
            data,
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError) as exc:
        raise TypeError(f"event data cannot be encoded as JSON: {exc}") from exc


RESERVED_PREFIX = "sse:"  # django-sse's own events (sse:reset) and the client's DOM events


def _prepare(stream: str, data: object, event: str) -> tuple[str, bytes]:
    check_event_name(event)
    if event.startswith(RESERVED_PREFIX):
        raise ValueError(f"event names starting with {RESERVED_PREFIX!r} are reserved: {event!r}")
    if len(event) > models.EVENT_NAME_MAX_LENGTH:
        raise ValueError(f"event name longer than {models.EVENT_NAME_MAX_LENGTH}")
    text = encode_data(data)
    try:
        frame = encode_event(text, event)
    except UnicodeEncodeError as exc:
        raise ValueError(f"event data is not valid Unicode text: {exc}") from exc
    if len(frame) > conf.SSE_MAX_EVENT_SIZE:
        raise ValueError(
            f"event is {len(frame)} bytes encoded; SSE_MAX_EVENT_SIZE allows "
            f"{conf.SSE_MAX_EVENT_SIZE}"
        )
    return text, frame


def _user_pk(user_or_pk: object) -> tuple[object, bool]:
    """The primary key, and whether it still has to be checked to exist."""
    user_model = get_user_model()
    if isinstance(user_or_pk, user_model):
        if user_or_pk.pk is None:
            raise ValueError("cannot send to an unsaved user")
        return user_or_pk.pk, False
    if getattr(user_or_pk, "is_anonymous", False) is True:
        raise ValueError("cannot send to an anonymous user")
    if user_or_pk is None or isinstance(user_or_pk, bool):
        raise ValueError(f"invalid user or primary key: {user_or_pk!r}")
    return user_or_pk, True


def _unknown_user(pk: object) -> ValueError:
    return ValueError(f"no user with primary key {pk!r}")


def _user_exists(pk: object) -> bool:
    try:
        return get_user_model()._default_manager.filter(pk=pk).exists()  # type: ignore[misc]
    except (TypeError, ValueError) as exc:
        raise _unknown_user(pk) from exc


def _message(stream: str, seq: int | None, frame: bytes) -> dict[str, Any]:
    return {"type": RING_TYPE, "stream": stream, "seq": seq, "frame": frame}


async def _send(stream: str, message: dict[str, Any]) -> None:
    """Send to the stream's group; log (never raise) when the layer is unreachable."""
    if message["type"] == RING_TYPE and event_published.has_listeners():
        event_published.send(sender=None, stream=stream, seq=message["seq"], frame=message["frame"])
    layer = get_channel_layer(conf.SSE_CHANNEL_LAYER)
    hub = running_hub()
    try:
        if layer is None:
            raise RuntimeError("no channel layer configured")
        if hub is not None and hub.loop is not asyncio.get_running_loop():
            # The in-memory layer's queues belong to the hub's loop.
            coro = _group_send(layer, group_name(stream), message)
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, hub.loop))
        else:
            await _group_send(layer, group_name(stream), message)
    except Exception:
        seq = message.get("seq")
        if message["type"] != RING_TYPE:
            logger.error("%s for %s failed", message["type"], stream, exc_info=True)
        elif seq is None:
            logger.warning(
                "ephemeral event on %s dropped: layer unreachable", stream, exc_info=True
            )
        else:
            logger.error(
                "ring for %s #%s failed; subscribers will read it from the log",
                stream,
                seq,
                exc_info=True,
            )


async def _group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
    try:
        await layer.group_send(group, message)
    except ConnectionError:
        # Once more: after a Redis restart the first command fails on a pooled
        # connection that died with the old server.
        await layer.group_send(group, message)


def _send_from_thread(stream: str, message: dict[str, Any]) -> None:
    hub = running_hub()
    if hub is not None:
        future = asyncio.run_coroutine_threadsafe(_send(stream, message), hub.loop)
        try:
            future.result(THREAD_RING_TIMEOUT)
        except TimeoutError:
            logger.error("%s for %s timed out", message["type"], stream)
    else:
        async_to_sync(_send)(stream, message)


def _check_sync_context() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "django_sse: the sync publish functions cannot run inside an event loop; "
        "await asend_to_user/abroadcast/asend_to_stream instead"
    )


def _publish(stream: str, data: object, event: str, persist: bool) -> int | None:
    _check_sync_context()
    text, frame = _prepare(stream, data, event)
    if not persist:
        _send_from_thread(stream, _message(stream, None, frame))
        return None
    with transaction.atomic():
        seq = models.append(stream, event, text)
        transaction.on_commit(lambda: _send_from_thread(stream, _message(stream, seq, frame)))
    return seq


async def _apublish(stream: str, data: object, event: str, persist: bool) -> int | None:
    text, frame = _prepare(stream, data, event)
    seq = await sync_to_async(models.append)(stream, event, text) if persist else None
    await _send(stream, _message(stream, seq, frame))
    return seq


def send_to_user(
    user_or_pk: object, data: object, *, event: str = "message", persist: bool = True
) -> int | None:
    """Send to every connection of one user; return the event's seq (None if not persisted)."""
    pk, check = _user_pk(user_or_pk)
    stream = user_stream(pk)
    if check and not _user_exists(pk):
        raise _unknown_user(pk)
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
    pk, check = _user_pk(user_or_pk)
    stream = user_stream(pk)
    if check and not await sync_to_async(_user_exists)(pk):
        raise _unknown_user(pk)
    return await _apublish(stream, data, event, persist)


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


def _close_message(user_or_pk: object, session_key: str | None) -> tuple[str, dict[str, Any]]:
    pk, _ = _user_pk(user_or_pk)
    stream = user_stream(pk)
    session = session_digest(session_key) if session_key else ""
    return stream, {"type": CLOSE_TYPE, "stream": stream, "session": session}


def close_user_streams(user_or_pk: object, session_key: str | None = None) -> None:
    """End the open streams of a user (of one session only, if given), on every process.

    Their browsers reconnect and are authorized again; django_sse calls this itself
    when a user logs out.
    """
    _check_sync_context()
    stream, message = _close_message(user_or_pk, session_key)
    transaction.on_commit(lambda: _send_from_thread(stream, message))


async def aclose_user_streams(user_or_pk: object, session_key: str | None = None) -> None:
    """Async twin of :func:`close_user_streams`."""
    stream, message = _close_message(user_or_pk, session_key)
    await _send(stream, message)
