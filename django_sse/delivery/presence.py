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
from datetime import timedelta
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from django_sse.delivery.db import run_db
from django_sse.models import Presence, PresenceProcess

logger = logging.getLogger("django_sse.delivery.presence")

FLUSH = 0.5  # seconds between writes of joins and leaves
Join = tuple[str, str, list[str]]  # (connection, user pk or "", streams)


class PresenceBook:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.process = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._joins: list[Join] = []
        self._leaves: list[str] = []
        self._renewed = -self.ttl  # the first round registers the process

    def joined(self, connection: str, user_pk: str, streams: list[str]) -> None:
        self._joins.append((connection, user_pk, streams))

    def left(self, connection: str) -> None:
        self._leaves.append(connection)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FLUSH)
            joins, leaves = self._joins, self._leaves
            renew = loop.time() - self._renewed >= self.ttl / 3
            if not (joins or leaves or renew):
                continue
            self._joins, self._leaves = [], []
            try:
                await run_db(self._write, joins, leaves, renew)
            except DatabaseError:  # the database is away: try again next round
                logger.warning("presence not written; will retry", exc_info=True)
                self._joins[:0], self._leaves[:0] = joins, leaves
                continue
            if renew:
                self._renewed = loop.time()

    def _write(self, joins: list[Join], leaves: list[str], renew: bool) -> None:
        gone = set(leaves)
        rows: list[Any] = [
            Presence(connection=c, stream=s, user_pk=u, process=self.process)
            for c, u, streams in joins
            if c not in gone
            for s in streams
        ]
        if renew:
            now = timezone.now()
            expires = now + timedelta(seconds=self.ttl)
            PresenceProcess.objects.update_or_create(
                name=self.process, defaults={"expires": expires}
            )
            dead = PresenceProcess.objects.filter(expires__lt=now)
            Presence.objects.filter(process__in=dead.values("name")).delete()
            dead.delete()
        if rows:
            Presence.objects.bulk_create(rows, ignore_conflicts=True)
        if leaves:
            Presence.objects.filter(connection__in=leaves).delete()
