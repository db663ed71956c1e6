"""Who is connected, asked from any process: ``SSE_PRESENCE_TTL`` turns it on.

Each server process writes a row per stream of each open connection and renews one
row of its own (``django_sse.delivery.presence``); these functions read the rows of the
processes that renewed in time. A connection shows within about half a second of
opening and is gone as soon after it closes; a process killed without a word drops out
within ``SSE_PRESENCE_TTL``.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from django_sse.conf import conf
from django_sse.models import Presence, live_presence
from django_sse.outgoing import user_pk
from django_sse.streams import user_stream


def _live() -> QuerySet[Presence]:
    if conf.SSE_PRESENCE_TTL is None:
        raise ImproperlyConfigured("django_sse.presence needs SSE_PRESENCE_TTL (seconds) set")
    return live_presence()


def users(stream: str) -> list[Any]:
    """The primary keys of the logged-in users with a connection following ``stream``
    (``"broadcast"``, ``"topic:<name>"`` or ``"user:<pk>"``), sorted."""
    pks = _live().filter(stream=stream).exclude(user_pk="").values_list("user_pk", flat=True)
    field = get_user_model()._meta.pk
    assert field is not None
    return sorted({field.to_python(pk) for pk in pks})


def connections(stream: str) -> int:
    """How many open connections follow ``stream``, anonymous ones included."""
    return int(_live().filter(stream=stream).values("connection").distinct().count())


def is_online(user_or_pk: object) -> bool:
    """Whether a user (or primary key) has an open connection on any process."""
    pk, _ = user_pk(user_or_pk)
    return bool(_live().filter(stream=user_stream(pk)).exists())


async def ausers(stream: str) -> list[Any]:
    """Async twin of :func:`users`."""
    return await sync_to_async(users)(stream)


async def aconnections(stream: str) -> int:
    """Async twin of :func:`connections`."""
    return await sync_to_async(connections)(stream)


async def ais_online(user_or_pk: object) -> bool:
    """Async twin of :func:`is_online`."""
    return await sync_to_async(is_online)(user_or_pk)
