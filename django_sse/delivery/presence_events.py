"""Join and leave events of presence: with ``SSE_PRESENCE_EVENTS`` naming topics, a topic
stream gets ``sse:join`` when a logged-in user's first connection to it opens on any
process, and ``sse:leave`` when their last one closes or its process is found dead.

The presence writer (``django_sse.delivery.presence``) calls these on its database
thread around the rows it writes, so the answer "first" and "last" is the database's,
across every process. Both are ephemeral events (``{"user": pk, "topic": name}``): a
client that was away learns who is here from ``django_sse.presence``, not by replay. Two
processes writing one user's first (or last) connections in the same instant may both
announce it: a client keeps a set, and a repeat changes nothing.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
from collections.abc import Collection, Iterable

from django_sse.conf import conf
from django_sse.models import live_presence
from django_sse.streams import TOPIC_PREFIX
from django_sse.wire import encode_event

JOIN, LEAVE = "sse:join", "sse:leave"
Pair = tuple[str, str]  # (stream, user pk)


def enabled() -> bool:
    return bool(conf.SSE_PRESENCE_EVENTS)


def announced(rows: Iterable[tuple[str, str]]) -> set[Pair]:
    """The (stream, user) pairs among ``rows`` whose topic announces joins and leaves."""
    patterns = conf.SSE_PRESENCE_EVENTS
    return {
        (stream, user)
        for stream, user in rows
        if user
        and stream.startswith(TOPIC_PREFIX)
        and any(fnmatch.fnmatchcase(stream.removeprefix(TOPIC_PREFIX), p) for p in patterns)
    }


def present(pairs: set[Pair], excluding: Collection[str] = ()) -> set[Pair]:
    """Those of ``pairs`` with a live connection, ``excluding`` some connections."""
    if not pairs:
        return set()
    rows = live_presence().filter(
        stream__in={s for s, _ in pairs}, user_pk__in={u for _, u in pairs}
    )
    if excluding:
        rows = rows.exclude(connection__in=list(excluding))
    return pairs & set(rows.values_list("stream", "user_pk"))


def ring(loop: asyncio.AbstractEventLoop, kind: str, pairs: set[Pair]) -> None:
    """Send ``kind`` for each pair to its stream, from any thread, through the loop's ringer."""
    if not pairs:
        return
    # Here, not at the top: the ringer imports the hub, which imports the presence writer.
    from django_sse.delivery.ringer import Ring, ringer_for

    rings = []
    for stream, user in sorted(pairs):
        data = {
            "user": int(user) if user.isdigit() else user,
            "topic": stream.removeprefix(TOPIC_PREFIX),
        }
        rings.append(Ring(stream, None, encode_event(json.dumps(data), kind)))
    ringer_for(loop).put(rings)
