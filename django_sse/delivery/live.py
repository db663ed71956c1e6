"""The live picture of one hub, for the admin: its open streams, its counters, and what
went wrong for its streams lately (the last resets and overflows, newest first).

The hub notes each reset and overflow as it happens (an append to a bounded deque);
with ``SSE_PRESENCE_TTL`` set, the presence writer stores :func:`snapshot` in the
process's row at each renewal, so the admin of any process shows every process.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_sse.delivery.hub import Hub

KEPT = 20  # incidents each hub remembers
STREAMS_NAMED = 5  # streams named per incident
# The hub counters the live page shows, as (counter, heading).
SHOWN = (
    ("connects", "connects"),
    ("deliveries", "deliveries"),
    ("replays_log", "catch-ups from the log"),
    ("reset_invalid", "resets: invalid cursor"),
    ("reset_unknown", "resets: unknown cursor"),
    ("reset_expired", "resets: expired cursor"),
    ("overflows", "overflows"),
    ("layer_failures", "layer errors"),
    ("rejoins", "receiver restarts"),
    ("refused_limit", "refused for a cap"),
)


class Incidents:
    def __init__(self) -> None:
        self._recent: deque[dict[str, Any]] = deque(maxlen=KEPT)

    def note(self, kind: str, detail: str, user: str, streams: list[str]) -> None:
        """Remember a reset or an overflow of a stream (``user`` is "" for anonymous)."""
        named = ", ".join(streams[:STREAMS_NAMED])
        if len(streams) > STREAMS_NAMED:
            named += f" (+{len(streams) - STREAMS_NAMED})"
        self._recent.append(
            {"at": time.time(), "kind": kind, "detail": detail, "user": user, "streams": named}
        )

    def recent(self) -> list[dict[str, Any]]:
        return list(reversed(self._recent))


def snapshot(hub: Hub) -> dict[str, Any]:
    """What the live page shows of ``hub``, as JSON-able data."""
    stats = hub.stats()
    return {
        "open": stats["subscriptions"],
        "streams": stats["streams"],
        "counters": {key: hub.counters[key] for key, _ in SHOWN},
        "incidents": hub.incidents.recent(),
    }
