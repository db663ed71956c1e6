"""The database threads: a few lasting connections, closed when unfit."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction

from django_sse.delivery import db
from django_sse.delivery.db import close_connections, run_db

pytestmark = pytest.mark.django_db(transaction=True)


def _raw() -> tuple[int, object]:
    connection.ensure_connection()
    return threading.get_ident(), connection.connection


async def test_a_thread_keeps_its_connection_between_bursts() -> None:
    seen: dict[int, set[int]] = {}
    for _ in range(4 * db.DB_THREADS):
        thread, raw = await run_db(_raw)
        seen.setdefault(thread, set()).add(id(raw))
    assert len(seen) <= db.DB_THREADS
    assert all(len(raws) == 1 for raws in seen.values())  # one connection per thread


def _leave_a_transaction_open() -> tuple[int, object]:
    transaction.set_autocommit(False)
    return _raw()


def _is_open() -> bool:
    return connection.connection is not None


async def test_a_burst_that_leaves_a_transaction_open_loses_its_connection() -> None:
    close_connections()
    for _ in range(db.DB_THREADS):  # every thread: whichever runs the check must be clean
        await run_db(_leave_a_transaction_open)
    assert not any([await run_db(_is_open) for _ in range(db.DB_THREADS)])


def _fail() -> None:
    connection.ensure_connection()
    raise OperationalError("the database went away")


async def test_errors_reach_the_caller_and_the_next_burst_works() -> None:
    with pytest.raises(OperationalError, match="went away"):
        await run_db(_fail)
    assert await run_db(lambda: 1) == 1


async def test_a_burst_after_a_long_idle_starts_on_a_new_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "IDLE_CHECK", -1.0)  # every burst counts as after a long idle
    raws = [(await run_db(_raw))[1] for _ in range(2 * db.DB_THREADS)]
    assert len({id(raw) for raw in raws}) == len(raws)  # a new connection every time


async def test_a_database_error_closes_the_threads_connections() -> None:
    close_connections()
    for _ in range(db.DB_THREADS):  # every thread: whichever runs the check must be clean
        with pytest.raises(OperationalError):
            await run_db(_fail)
    assert not any([await run_db(_is_open) for _ in range(db.DB_THREADS)])


async def test_close_connections_closes_every_thread() -> None:
    for _ in range(db.DB_THREADS):
        await run_db(_raw)
    close_connections()
    assert not any([await run_db(_is_open) for _ in range(db.DB_THREADS)])
