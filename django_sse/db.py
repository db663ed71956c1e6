"""Short bursts of database work from async code that hold nothing afterwards.

An open stream must hold neither a thread nor a database connection while it
waits. Each burst runs on a pooled worker thread and closes that thread's
connections (per ``CONN_MAX_AGE``) before returning, in the same thread: closing
from anywhere else would close some other thread's connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")


def _closing(fn: Callable[P, R]) -> Callable[P, R]:
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return run


async def run_db(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``fn`` on a worker thread, releasing its connection afterwards."""
    return await sync_to_async(_closing(fn), thread_sensitive=False)(*args, **kwargs)


async def release_request_connections() -> None:
    """Close what the request's own thread opened (session and user lookups).

    Thread-sensitive, so it runs on the thread that ``request.auser()`` used.
    """
    await sync_to_async(close_old_connections)()
