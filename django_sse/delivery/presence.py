"""Presence, written by each hub (``SSE_PRESENCE_TTL`` set): one row per stream of each
open connection, in the database every process already shares.

A connect or a disconnect only appends to a list; every ``FLUSH`` seconds one burst on
a database thread inserts the new rows and deletes the gone ones, in one statement each.
The rows carry no expiry: the process has one row of its own (``PresenceProcess``) and
renews it every third of the TTL, and readers count only the rows of live processes.
The same round deletes what processes that died without a word left. So a process
killed with SIGKILL drops out of every answer within the TTL, and what renewing costs
does not grow with the number of open streams (one row), only connects and disconnects
write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from django_sse.delivery import presence_events as events
from django_sse.delivery.db import run_db
from django_sse.models import Presence, PresenceProcess

logger = logging.getLogger("django_sse.delivery.presence")

FLUSH = 0.5  # seconds between writes of joins and leaves
Join = tuple[str, str, list[str]]  # (connection, user pk or "", streams)


class PresenceBook:
    def __init__(self, ttl: float, snapshot: Callable[[], dict[str, Any]] = dict) -> None:
        self.ttl = ttl
        self.snapshot = snapshot  # the hub's live picture, stored at each renewal
        self.process = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._joins: list[Join] = []
        self._leaves: list[str] = []
        self._renewed = -self.ttl  # the first round registers the process
        self.loop: asyncio.AbstractEventLoop | None = None  # the hub's, for join/leave rings

    def joined(self, connection: str, user_pk: str, streams: list[str]) -> None:
        self._joins.append((connection, user_pk, streams))

    def left(self, connection: str) -> None:
        self._leaves.append(connection)

    async def run(self) -> None:
        loop = self.loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FLUSH)
            joins, leaves = self._joins, self._leaves
            renew = loop.time() - self._renewed >= self.ttl / 3
            if not (joins or leaves or renew):
                continue
            self._joins, self._leaves = [], []
            stats = self.snapshot() if renew else None  # on the loop, as the hub changes
            try:
                await run_db(self._write, joins, leaves, stats)
            except DatabaseError:  # the database is away: try again next round
                logger.warning("presence not written; will retry", exc_info=True)
                self._joins[:0], self._leaves[:0] = joins, leaves
                continue
            if renew:
                self._renewed = loop.time()

    def _write(self, joins: list[Join], leaves: list[str], stats: dict[str, Any] | None) -> None:
        announce = events.enabled() and self.loop is not None
        gone = set(leaves)
        rows: list[Any] = [
            Presence(connection=c, stream=s, user_pk=u, process=self.process)
            for c, u, streams in joins
            if c not in gone
            for s in streams
        ]
        left: set[events.Pair] = set()
        if stats is not None:  # the renewal
            now = timezone.now()
            expires = now + timedelta(seconds=self.ttl)
            PresenceProcess.objects.update_or_create(
                name=self.process, defaults={"expires": expires, "renewed": now, "stats": stats}
            )
            dead = PresenceProcess.objects.filter(expires__lt=now)
            orphans = Presence.objects.filter(process__in=dead.values("name"))
            if announce:
                left |= events.announced(orphans.values_list("stream", "user_pk"))
            orphans.delete()
            dead.delete()
        if rows:
            Presence.objects.bulk_create(rows, ignore_conflicts=True)
        if leaves:
            closed = Presence.objects.filter(connection__in=leaves)
            if announce:
                left |= events.announced(closed.values_list("stream", "user_pk"))
            closed.delete()
        if announce:
            assert self.loop is not None
            joined = events.announced((r.stream, r.user_pk) for r in rows)
            new = {r.connection for r in rows}
            events.ring(self.loop, events.JOIN, joined - events.present(joined, excluding=new))
            events.ring(self.loop, events.LEAVE, left - events.present(left))
