"""Repair from the log: bring a stream's local deliveries up to what is committed.

A ring that jumps ahead, a ring lost to a full channel, an outage of the layer:
each leaves a stream's local deliveries behind the log. The hub then reads the
missing events once for the whole process, in order, and fans them out as if
they had rung (decision 3 in docs/decisions.md).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django_sse.db import run_db
from django_sse.models import read_after, read_heads
from django_sse.wire import encode_event

if TYPE_CHECKING:
    from django_sse.hub import Hub, _StreamState

logger = logging.getLogger("django_sse.hub")

REPAIR_BATCH = 500  # events read from the log per query


def want(hub: Hub, state: _StreamState, seq: int) -> None:
    """``seq`` is committed on ``state``'s stream: deliver everything up to it."""
    state.wanted = max(state.wanted, seq)
    if not state.repairing:
        state.repairing = True
        hub.spawn(_repair(hub, state))


async def _repair(hub: Hub, state: _StreamState) -> None:
    try:
        while hub._streams.get(state.name) is state:
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
                hub._fan_out(state, seq, encode_event(data, event))
            hub.counters["repaired"] += len(rows)
    except Exception:
        logger.warning("reading %s from the log failed", state.name, exc_info=True)
    finally:
        state.repairing = False


async def resync(hub: Hub) -> None:
    """Compare every joined stream with its head in the log; fetch what is missing."""
    joined = [n for n, s in hub._streams.items() if s.last is not None]
    if not joined:
        return
    heads = await run_db(read_heads, joined)
    for name, head in heads.items():
        state = hub._streams.get(name)
        if state is not None and state.last is not None and head > state.last:
            want(hub, state, head)
