"""The admin's live page: every server process with its open streams and counters, the
streams most followed, and the last resets and overflows.

With ``SSE_PRESENCE_TTL`` set the page reads the database and shows the whole fleet:
each process stores its hub's picture at every renewal (a third of the TTL), and the
per-stream counts come from the presence rows (within half a second). Without it, the
page shows the process that serves it, if that process runs a hub.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from django_sse.conf import conf
from django_sse.delivery.hub import Hub, running_hub
from django_sse.delivery.live import SHOWN, snapshot
from django_sse.models import PresenceProcess, live_presence

TOP_STREAMS = 50  # streams listed, most followed first
INCIDENTS = 30  # resets and overflows listed, newest first


def picture() -> dict[str, Any]:
    """The page's context: ``processes``, ``streams``, ``incidents``, and how it knows."""
    fleet = conf.SSE_PRESENCE_TTL is not None
    if fleet:
        processes, streams = _from_database(), _streams_from_database()
    elif (hub := running_hub()) is not None:
        processes, streams = _from_hub(hub), _streams_from_hub(hub)
    else:  # this process serves no streams
        processes, streams = [], []
    incidents = sorted(
        (
            {**incident, "process": p["name"], "at": _when(incident["at"])}
            for p in processes
            for incident in p["stats"].get("incidents", [])
        ),
        key=lambda incident: incident["at"],
        reverse=True,
    )[:INCIDENTS]
    for process in processes:
        counters = process["stats"].get("counters", {})
        process["counts"] = [counters.get(key, 0) for key, _ in SHOWN]
    return {
        "fleet": fleet,
        "processes": processes,
        "open": sum(p["stats"].get("open", 0) for p in processes),
        "headings": [heading for _, heading in SHOWN],
        "streams": streams,
        "incidents": incidents,
        "refresh": max(int((conf.SSE_PRESENCE_TTL or 15) / 3), 2),
    }


def _when(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _from_database() -> list[dict[str, Any]]:
    rows = PresenceProcess.objects.filter(expires__gt=timezone.now()).order_by("name")
    return [
        {"name": row.name, "started": row.started, "renewed": row.renewed, "stats": row.stats}
        for row in rows
    ]


def _from_hub(hub: Hub) -> list[dict[str, Any]]:
    return [{"name": "this process", "started": None, "renewed": None, "stats": snapshot(hub)}]


def _streams_from_database() -> list[dict[str, Any]]:
    rows: Any = (
        live_presence()
        .values("stream")
        .annotate(
            connections=Count("connection", distinct=True),
            users=Count("user_pk", distinct=True, filter=~Q(user_pk="")),
        )
        .order_by("-connections", "stream")[:TOP_STREAMS]
    )
    return list(rows)


def _streams_from_hub(hub: Hub) -> list[dict[str, Any]]:
    counts: list[dict[str, Any]] = [
        {"stream": name, "connections": len(state.subs), "users": None}
        for name in hub.stream_names()
        if (state := hub.state_of(name)) is not None and state.subs
    ]
    counts.sort(key=lambda row: (-row["connections"], row["stream"]))
    return counts[:TOP_STREAMS]
