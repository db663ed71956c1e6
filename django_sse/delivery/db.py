"""Short bursts of database work from async code, on a few threads of our own.

An open stream must hold neither a thread nor a database connection while it
waits. Each burst (a head read, a replay, a sync ``SSE_AUTHORIZE`` hook) runs
on one of ``DB_THREADS`` threads, and each of them keeps its connection from
one burst to the next: a process holds at most ``DB_THREADS`` connections for
its streams, however many are open, and a reconnect storm does not open and
close one per query. A thread's connections are closed after a burst that
raised a database error or left a transaction open, and before a burst that
follows ``IDLE_CHECK`` seconds of idle (the database may have restarted). Only
Django's documented API decides this (``transaction.get_autocommit``,
``close()``), never the connection wrapper's attributes.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

P = ParamSpec("P")
R = TypeVar("R")

DB_THREADS = 4  # threads (and so database connections) for streams, per process
IDLE_CHECK = 5.0  # seconds idle after which a connection is checked before use

THREAD_PREFIX = "django-sse-db"
_executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix=THREAD_PREFIX)
_local = threading.local()


def _opened() -> set[str]:
    """The aliases this thread has connected since it last closed them (Django's
    documented ``connection_created`` says when), so a check never connects anew."""
    if not hasattr(_local, "opened"):
        _local.opened = set()
    opened: set[str] = _local.opened
    return opened


def _note_connection(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if threading.current_thread().name.startswith(THREAD_PREFIX):
        _opened().add(connection.alias)


connection_created.connect(_note_connection, dispatch_uid="django_sse.delivery.db")


def _close_all() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()
    _opened().clear()


def _check_idle() -> None:
    """Start afresh after a long idle: the database may have restarted meanwhile."""
    now = time.monotonic()
    if now - getattr(_local, "used_at", now) > IDLE_CHECK:
        _close_all()
    _local.used_at = now


def _in_autocommit(alias: str) -> bool:
    try:
        return transaction.get_autocommit(using=alias)
    except DatabaseError:  # it cannot even connect: nothing worth keeping
        return False


def _burst(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    _check_idle()
    try:
        result = fn(*args, **kwargs)
    except DatabaseError:
        _close_all()  # the error may have left a connection unusable
        raise
    opened = _opened()
    for alias in list(opened):
        if not _in_autocommit(alias):  # a transaction left open
            connections[alias].close()
            opened.discard(alias)
    return result


async def run_db(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``fn`` on one of the database threads (in a copy of this context)."""
    loop = asyncio.get_running_loop()
    burst: Callable[[], R] = partial(_burst, fn, *args, **kwargs)
    return await loop.run_in_executor(_executor, contextvars.copy_context().run, burst)


def run_db_now(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call sync ``fn`` from sync code that may be running on an event loop's thread.

    Outside an event loop it is a plain call. Inside one (a template rendered inline
    by an async view), Django's ORM refuses that thread, so ``fn`` runs on one of the
    database threads (in a copy of this context) while the caller waits: for short
    work only, as it holds the loop meanwhile.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    burst: Callable[[], R] = partial(_burst, fn, *args, **kwargs)
    return _executor.submit(contextvars.copy_context().run, burst).result()


def close_connections() -> None:
    """Close the connections the database threads keep (tests, before dropping a database)."""
    barrier = threading.Barrier(DB_THREADS, timeout=10)

    def close() -> None:
        barrier.wait()  # one job per thread: each waits until all threads hold one
        _close_all()

    for future in [_executor.submit(close) for _ in range(DB_THREADS)]:
        future.result()


async def release_request_connections() -> None:
    """Close what the request's own thread opened (session and user lookups).

    Thread-sensitive, so it runs on the thread that ``request.auser()`` used.
    """
    await sync_to_async(close_old_connections)()
