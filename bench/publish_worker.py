"""One publisher process of the publish benchmark: run one case, print what it took.

    python -m bench.publish_worker CASE N [--start UNIX_TIME] [--tag TAG]

Settings are ``bench.publish_settings`` (the runner sets the database and the
Redis prefix). Prints one JSON object: ``{"events": N, "seconds": s, "cpu": s}``
(the process's CPU time over the timed part). With
``--start`` the timed part begins at that wall-clock time, so several workers
start together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable

import django

USERS = 10_000  # users the setup case creates (the bulk case notifies them all)
TURN_USERS = 500  # users the send_to_user case publishes to in turn


def _floor_insert(n: int, autocommit: bool = False) -> Callable[[], object]:
    """A bare INSERT + COMMIT per event through the driver, into a table like the log.

    ``autocommit``: the INSERT alone, committed by the server (one round trip).
    """
    from django.db import connection

    settings = connection.settings_dict
    row = ("topic:floor", "message", '{"n":1}')
    if connection.vendor == "postgresql":
        import psycopg

        conn = psycopg.connect(host="127.0.0.1", user="postgres", dbname=settings["NAME"])
        conn.autocommit = True
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute(
            "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, stream varchar(100), "
            "seq bigint, event varchar(200), data text, created timestamptz, "
            "UNIQUE (stream, seq))"
        )

        conn.autocommit = autocommit

        def run() -> None:
            for i in range(n):
                conn.execute(
                    "INSERT INTO bench_floor (stream, seq, event, data, created) "
                    "VALUES (%s, %s, %s, %s, now())",
                    (row[0], i, row[1], row[2]),
                )
                if not autocommit:
                    conn.commit()

        return run
    lite = sqlite3.connect(settings["NAME"], isolation_level=None)
    lite.execute("PRAGMA journal_mode=WAL")
    lite.execute("DROP TABLE IF EXISTS bench_floor")
    lite.execute(
        "CREATE TABLE bench_floor (id integer PRIMARY KEY, stream text, seq integer, "
        "event text, data text, created text, UNIQUE (stream, seq))"
    )

    def run_lite() -> None:
        for i in range(n):
            if not autocommit:
                lite.execute("BEGIN IMMEDIATE")
            lite.execute(
                "INSERT INTO bench_floor (stream, seq, event, data, created) "
                "VALUES (?, ?, ?, ?, datetime('now'))",
                (row[0], i, row[1], row[2]),
            )
            if not autocommit:
                lite.execute("COMMIT")

    return run_lite


def _floor_redis(n: int) -> Callable[[], object]:
    """A bare Redis PUBLISH per event (redis-py, one connection)."""
    import redis

    client = redis.Redis.from_url(os.environ.get("DJANGO_SSE_BENCH_REDIS", "redis://127.0.0.1"))
    client.ping()
    return lambda: [client.publish("bench-floor", b'data: {"n":1}\n\n') for _ in range(n)]


def _sse(n: int, call: Callable[[int], object]) -> Callable[[], object]:
    import django_sse

    def run() -> None:
        for i in range(n):
            call(i)
        assert django_sse.flush(60.0)  # rung, not only queued

    return run


def _warm_up() -> None:
    """One publish before the clock starts: the layer connection, the publisher loop."""
    from django_eventstream import send_event

    import django_sse

    django_sse.send_to_stream("warm", 0)
    assert django_sse.flush(30.0)
    send_event("warm", "message", 0)


def _case(case: str, n: int, tag: str) -> Callable[[], object]:
    from django.contrib.auth.models import User

    import django_sse

    if not case.startswith("floor"):
        _warm_up()
    if case == "floor-insert":
        return _floor_insert(n)
    if case == "floor-autocommit":
        return _floor_insert(n, autocommit=True)
    if case == "floor-redis":
        return _floor_redis(n)
    if case == "stream":
        return _sse(n, lambda i: django_sse.send_to_stream("hot", {"tag": tag, "i": i}))
    if case == "ephemeral":
        return _sse(n, lambda i: django_sse.send_to_stream("hot", {"i": i}, persist=False))
    if case == "users":
        pks = list(User.objects.order_by("pk").values_list("pk", flat=True)[:TURN_USERS])
        return _sse(n, lambda i: django_sse.send_to_user(pks[i % len(pks)], {"i": i}))
    if case == "bulk":
        pks = list(User.objects.order_by("pk").values_list("pk", flat=True)[:n])
        return _sse(1, lambda i: django_sse.send_to_users(pks, {"bulk": tag}))
    if case == "async":
        return lambda: asyncio.run(_async_stream(n))
    if case == "eventstream":
        from django_eventstream import send_event

        return lambda: [send_event("hot", "message", {"i": i}) for i in range(n)]
    raise SystemExit(f"unknown case {case!r}")


async def _async_stream(n: int) -> None:
    import django_sse

    for i in range(n):
        await django_sse.asend_to_stream("hot-async", {"i": i})


def setup_users() -> None:
    from django.contrib.auth.models import User

    have = User.objects.count()
    User.objects.bulk_create(
        [User(username=f"bench{i}", password="!") for i in range(have, USERS)], batch_size=2000
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("n", type=int)
    parser.add_argument("--start", type=float, default=0.0)
    parser.add_argument("--tag", default="w")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.publish_settings")
    django.setup()
    if args.case == "setup":
        setup_users()
        print(json.dumps({"events": 0, "seconds": 1.0}))
        return
    run = _case(args.case, args.n, args.tag)
    if args.start:
        time.sleep(max(0.0, args.start - time.time()))
    started, cpu = time.perf_counter(), time.process_time()
    run()
    seconds = time.perf_counter() - started
    print(json.dumps({"events": args.n, "seconds": seconds, "cpu": time.process_time() - cpu}))


if __name__ == "__main__":
    main()
