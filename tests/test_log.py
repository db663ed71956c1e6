"""The log under concurrent publishers in several processes."""

from __future__ import annotations

import uuid

import pytest

from tests.services import Backend, finish, pg_connect

PROCESSES = 4
EACH = 200


def read_log(backend: Backend, stream: str) -> list[tuple[int, str]]:
    """(seq, data) of every event of ``stream``, read with the database's own client."""
    kind, _, where = backend.db.partition(":")
    query = "SELECT seq, data FROM django_sse_event WHERE stream = %s ORDER BY seq"
    if kind == "postgres":
        with pg_connect(where) as conn:
            return [(int(s), str(d)) for s, d in conn.execute(query, (stream,)).fetchall()]
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(where)) as conn:
        rows = conn.execute(query.replace("%s", "?"), (stream,)).fetchall()
    return [(int(s), str(d)) for s, d in rows]


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_concurrent_processes_get_a_dense_sequence(db: str, request: pytest.FixtureRequest) -> None:
    backend: Backend = request.getfixturevalue(f"{db}_backend")
    topic = f"log-{uuid.uuid4().hex[:8]}"
    publishers = [backend.publisher("topic", topic, EACH, f"p{n}") for n in range(PROCESSES)]
    returned = [finish(p) for p in publishers]
    everything = sorted(seq for seqs in returned for seq in seqs)
    assert everything == list(range(1, PROCESSES * EACH + 1))
    for seqs in returned:  # each process saw its own events in increasing order
        assert seqs == sorted(seqs)
    log = read_log(backend, f"topic:{topic}")
    assert [seq for seq, _ in log] == list(range(1, PROCESSES * EACH + 1))


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_retention_keeps_the_log_bounded_under_concurrent_publishers(
    db: str, request: pytest.FixtureRequest
) -> None:
    base: Backend = request.getfixturevalue(f"{db}_backend")
    backend = Backend(base.db, base.layer, {"SSE_MAX_EVENTS_PER_STREAM": 50})
    topic = f"bounded-{uuid.uuid4().hex[:8]}"
    publishers = [backend.publisher("topic", topic, EACH, f"b{n}") for n in range(PROCESSES)]
    pruning = backend.manage("sse_prune")  # at the same time as the publishers
    seqs = sorted(seq for p in publishers for seq in finish(p))
    assert seqs == list(range(1, PROCESSES * EACH + 1))
    assert pruning.startswith("Deleted ")
    kept = [seq for seq, _ in read_log(backend, f"topic:{topic}")]
    assert kept == list(range(kept[0], PROCESSES * EACH + 1))  # the newest, without a hole
    assert 50 <= len(kept) < 50 + 64  # pruned every 64 publishes down to the newest 50
