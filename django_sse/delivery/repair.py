"""Repair from the log: bring a stream's local deliveries up to what is committed.

A ring that jumps ahead, a ring lost to a full channel, an outage of the layer:
each leaves a stream's local deliveries behind the log. The hub then reads the
missing events once for the whole process, in order, and fans them out as if
they had rung (decision 3 in docs/decisions.md).
"""

from __future__ import annotations

import logging

from django_sse.delivery.db import run_db
from django_sse.delivery.state import RepairHost, StreamState
from django_sse.models import read_after, read_heads
from django_sse.wire import encode_event

logger = logging.getLogger("django_sse.delivery.hub")

REPAIR_BATCH = 500  # events read from the log per query


def want(hub: RepairHost, state: StreamState, seq: int) -> None:
    """``seq`` is committed on ``state``'s stream: deliver everything up to it."""
    state.wanted = max(state.wanted, seq)
    if not state.repairing:
        state.repairing = True
        hub.spawn(_repair(hub, state))


async def _repair(hub: RepairHost, state: StreamState) -> None:
    try:
        while hub.state_of(state.name) is state:
            assert state.last is not None
            if state.last >= state.wanted:
                break
            rows = await run_db(read_after, state.name, state.last, REPAIR_BATCH)
            if not rows:  # pruned meanwhile: connections will reset
                state.last = state.wanted
                state.recent.clear()
                break
            for seq, event, data in rows:
                state.last = seq
                hub.fan_out(state, seq, encode_event(data, event))
            hub.counters["repaired"] += len(rows)
    except Exception:
        logger.warning("reading %s from the log failed", state.name, exc_info=True)
    finally:
        state.repairing = False


async def resync(hub: RepairHost) -> None:
    """Compare every joined stream with its head in the log; fetch what is missing."""
    joined = [s.name for s in hub.joined()]
    if not joined:
        return
    heads = await run_db(read_heads, joined)
    for name, head in heads.items():
        state = hub.state_of(name)
        if state is not None and state.last is not None and head > state.last:
            want(hub, state, head)
