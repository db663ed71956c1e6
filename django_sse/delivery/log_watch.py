"""On the embedded default, notice events that other processes wrote to the log.

With the in-memory channel layer a ring reaches only its own process: an event
published from ``manage.py shell``, ``sse_send`` or a worker is in the SQLite log,
and without help an open stream would see it only at the hub's next resync
(``SSE_RESYNC_INTERVAL``, 10 s). So where the layer is the in-memory one and the log
is an SQLite file, the hub reads SQLite's ``PRAGMA data_version`` every
``WATCH_INTERVAL`` on a connection of its own: the number changes when another
connection commits. Then the hub resyncs (one head read for the streams it follows)
and delivers what is new. An idle process costs one pragma every
``WATCH_INTERVAL`` (a few microseconds, on the event loop), and only while some
stream is open.

A cross-process channel layer (channels-redis) needs none of this: every publish
rings every process.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from channels.layers import InMemoryChannelLayer
from django.db import connections, router

if TYPE_CHECKING:
    from django_sse.delivery.state import WatchHost

logger = logging.getLogger("django_sse.delivery.hub")

WATCH_INTERVAL = 0.2  # seconds between two reads of SQLite's data_version


def sqlite_file(layer: Any) -> str | None:
    """The log's SQLite file, if this hub should watch it; None otherwise."""
    if not isinstance(layer, InMemoryChannelLayer):  # its rings reach one process only
        return None
    from django_sse.models import Event

    connection = connections[router.db_for_read(Event)]
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or name == ":memory:" or "mode=memory" in name:
        return None  # an in-memory database: no other process can open it
    return name


class LogWatch:
    """Resync ``hub`` whenever another connection commits to the SQLite log."""

    def __init__(self, hub: WatchHost, path: str) -> None:
        self.hub = hub
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _version(self) -> int:
        if self._db is None:
            uri = f"file:{self.path}?mode=ro"
            # timeout=0: never wait on a lock from the event loop (a busy tick is skipped)
            self._db = sqlite3.connect(uri, uri=True, timeout=0)
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    async def run(self) -> None:
        seen: int | None = None
        try:
            while True:
                await asyncio.sleep(WATCH_INTERVAL)
                if not self.hub.stream_names():
                    continue  # nobody to tell
                try:
                    # On the loop: a pragma that reads a counter in shared memory costs
                    # microseconds, less than any hop to a thread.
                    version = self._version()
                except sqlite3.OperationalError:
                    continue  # locked for a moment (a checkpoint): the next tick reads it
                except sqlite3.Error:
                    logger.warning("reading data_version of %s failed", self.path, exc_info=True)
                    self.close()
                    continue
                if version != seen:  # the first read too: a commit may precede it
                    self.hub.counters["log_changes"] += 1
                    await self.hub.resync()
                seen = version
        finally:
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
