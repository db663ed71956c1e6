"""Writing to the log at the database's own speed: one event, or many at once.

Each stream's head row hands out sequence numbers. The head is bumped by an
upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) in the same
transaction as the event rows, so numbers are dense and commit in order per
stream. A single event is one statement, so outside ``atomic()`` it costs what
a bare ``INSERT`` does: on PostgreSQL the upsert and the insert in one CTE; on
SQLite an insert that reads the head, which a trigger then moves. Databases
without upsert ``RETURNING`` (MySQL, MariaDB, Oracle, SQLite before 3.35) take
the portable ORM path of ``models``.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.utils import timezone

from django_sse import models
from django_sse.conf import conf

HEADS_PER_STATEMENT = 500  # streams per upsert on SQLite (two parameters each)
EVENTS_PER_INSERT = 1000  # rows per INSERT of a bulk publish on SQLite (five parameters each)
PRUNE_PER_DELETE = 100  # streams one pruning DELETE of a bulk publish covers

Row = tuple[str, str, str]  # (stream, event name, data)


def _db() -> BaseDatabaseWrapper:
    return connections[router.db_for_write(models.Event)]


def _upsert_returning(connection: BaseDatabaseWrapper) -> bool:
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35)  # the module Django's backend uses
    return False


def _names(connection: BaseDatabaseWrapper) -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(models.Stream._meta.db_table), quote(models.Event._meta.db_table)


def append(stream: str, event: str, data: str, *, user_pk: object = None) -> int | None:
    """Store one event at the next sequence number of ``stream``; return it.

    With ``user_pk``, only if that user exists, checked in the same statement:
    ``None`` (and nothing stored) if it does not.
    """
    connection = _db()
    guard = _user_guard(connection, user_pk) if _upsert_returning(connection) else None
    if guard is None:
        if user_pk is not None and not _user_exists(user_pk):
            return None
        return models.append(stream, event, data)
    where, guard_params = guard
    heads, events = _names(connection)
    insert = f"INSERT INTO {events} (stream, seq, event, data, created)"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: atomic on its own, one round trip in autocommit.
            cursor.execute(
                f"WITH head AS (INSERT INTO {heads} (name, seq) SELECT %s, 1 {where} "
                f"ON CONFLICT (name) DO UPDATE SET seq = {heads}.seq + 1 RETURNING seq) "
                f"{insert} SELECT %s, seq, %s, %s, %s FROM head RETURNING seq",
                [stream, *guard_params, stream, event, data, now],
            )
        else:
            # One statement too: it reads the head, and the trigger of migration
            # 0003 moves it. A writing statement takes SQLite's write lock first.
            cursor.execute(
                f"{insert} SELECT %s, COALESCE((SELECT seq FROM {heads} WHERE name = %s), 0) "
                f"+ 1, %s, %s, %s {where} RETURNING seq",
                [stream, stream, event, data, now, *guard_params],
            )
        row = cursor.fetchone()
    if row is None:
        return None
    seq = int(row[0])
    if seq % models.PRUNE_EVERY == 0:
        models.prune_stream(stream, seq)
    return seq


def _user_guard(connection: BaseDatabaseWrapper, user_pk: object) -> tuple[str, list[Any]] | None:
    """The ``WHERE`` that lets the head move only for an existing user (None: cannot)."""
    if user_pk is None:
        return "WHERE 1 = 1", []  # SQLite's upsert needs a WHERE after its SELECT
    user_model = get_user_model()
    if router.db_for_read(user_model) != connection.alias:
        return None  # the users live in another database
    meta = user_model._meta
    assert meta.pk is not None
    quote = connection.ops.quote_name
    table, column = quote(meta.db_table), quote(str(meta.pk.column))
    where = f"WHERE EXISTS (SELECT 1 FROM {table} WHERE {column} = %s)"
    return where, [meta.pk.get_db_prep_value(user_pk, connection)]


def _user_exists(pk: object) -> bool:
    return bool(get_user_model()._default_manager.filter(pk=pk).exists())  # type: ignore[misc]


def append_many(rows: Sequence[Row]) -> list[int]:
    """Store ``rows`` in one transaction; return each row's sequence number, in order.

    Within a stream the rows keep their order and take consecutive numbers.
    """
    if not rows:
        return []
    counts = Counter(stream for stream, _, _ in rows)
    connection = _db()
    with transaction.atomic(using=connection.alias):
        heads = _bump_heads(connection, counts)
        nexts = {name: heads[name] - n + 1 for name, n in counts.items()}
        seqs = []
        for stream, _, _ in rows:
            seqs.append(nexts[stream])
            nexts[stream] += 1
        _insert_events(connection, rows, seqs)
        _prune_crossed(counts, heads)
    return seqs


def _bump_heads(connection: BaseDatabaseWrapper, counts: Counter[str]) -> dict[str, int]:
    """Move each stream's head on by its count; the new heads."""
    names = sorted(counts)  # one lock order for every publisher: no deadlocks
    if not _upsert_returning(connection):
        return {name: models.bump(name, counts[name]) for name in names}
    table, _ = _names(connection)
    conflict = f"ON CONFLICT (name) DO UPDATE SET seq = {table}.seq + excluded.seq"
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Arrays: one statement of constant text, whatever the number of streams.
            cursor.execute(
                f"INSERT INTO {table} (name, seq) SELECT * FROM unnest(%s::text[], %s::bigint[]) "
                f"{conflict} RETURNING name, seq",
                [names, [counts[name] for name in names]],
            )
            return {name: int(seq) for name, seq in cursor.fetchall()}
        for start in range(0, len(names), HEADS_PER_STATEMENT):
            chunk = names[start : start + HEADS_PER_STATEMENT]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (name, seq) VALUES {values} {conflict} RETURNING name, seq",
                [p for name in chunk for p in (name, counts[name])],
            )
            found.update((name, int(seq)) for name, seq in cursor.fetchall())
    return found


def _insert_events(connection: BaseDatabaseWrapper, rows: Sequence[Row], seqs: list[int]) -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    _, table = _names(connection)
    columns = f"INSERT INTO {table} (stream, seq, event, data, created)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            streams, names, texts = (list(column) for column in zip(*rows, strict=True))
            cursor.execute(
                f"{columns} SELECT s, q, e, d, %s FROM "
                "unnest(%s::text[], %s::bigint[], %s::text[], %s::text[]) AS t(s, q, e, d)",
                [now, streams, seqs, names, texts],
            )
            return
        for start in range(0, len(rows), EVENTS_PER_INSERT):
            chunk = range(start, min(start + EVENTS_PER_INSERT, len(rows)))
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for i in chunk:
                stream, event, data = rows[i]
                params += (stream, seqs[i], event, data, now)
            cursor.execute(f"{columns} VALUES {values}", params)


def _prune_crossed(counts: Counter[str], heads: dict[str, int]) -> None:
    """Prune the streams whose head passed a multiple of ``PRUNE_EVERY``, as single
    publishes would, with one DELETE per ``PRUNE_PER_DELETE`` streams."""
    every = models.PRUNE_EVERY
    crossed = [
        name for name, n in counts.items() if heads[name] // every > (heads[name] - n) // every
    ]
    cutoff = timezone.now() - timedelta(seconds=conf.SSE_EVENT_TTL)
    for start in range(0, len(crossed), PRUNE_PER_DELETE):
        chunk = crossed[start : start + PRUNE_PER_DELETE]
        keep = conf.SSE_MAX_EVENTS_PER_STREAM
        old = reduce(or_, (Q(stream=name, seq__lte=heads[name] - keep) for name in chunk))
        old |= Q(stream__in=chunk, created__lt=cutoff)
        models.Event.objects.filter(old).delete()
