"""Wakes waits at their deadlines with one timer per event loop, none per wait.

A subscription waits for its next frame with a deadline (a heartbeat is due, or
the connection's maximum age). A ``call_later`` timer created and cancelled per
wait costs more than the wait itself, for a deadline that almost never passes:
a frame comes first. Instead each sleeper keeps its latest deadline and has one
entry in the ticker's heap; when the entry comes due the sleeper either wakes
or, if its deadline has moved on since (it waited again), is pushed again at
the new one. Steady waits thus touch no heap and no timer at all.

Long waits (``LONG`` seconds or more) end on a grid of ``TICK`` seconds, so one
timer firing wakes every sleeper due in that tick; they end at most one tick
late. Shorter waits end on time. The ticker keeps no reference to its loop or
to its sleepers (a weak one), so a closed loop goes away with its ticker.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import weakref
from typing import Protocol

TICK = 0.5  # seconds: how late a long wait may end
LONG = 4 * TICK  # seconds: waits this long or longer end on the tick grid
EARLY = 0.002  # seconds: timers may fire this much early (uvloop counts in ms)


class Sleeper(Protocol):
    def due(self, ticker: Ticker, watched_from: float, now: float) -> None:
        """The entry made with ``watched_from`` came due: wake, or watch again."""


Entry = tuple[float, int, float, weakref.ref[Sleeper]]  # (when, order, watched_from, sleeper)


class Ticker:
    """The deadlines of one event loop's sleepers, and one timer for the earliest."""

    __slots__ = ("_heap", "_order", "_when")

    def __init__(self) -> None:
        self._heap: list[Entry] = []
        self._order = itertools.count()  # ties never compare sleepers
        self._when = math.inf  # when the live timer fires (older ones do nothing)

    def watch(self, sleeper: Sleeper, deadline: float, timeout: float) -> float:
        """Call ``sleeper.due()`` at ``deadline`` (a tick late at most, if ``timeout``
        is long); returns the earliest deadline this entry still honours."""
        if deadline == math.inf:
            return math.inf  # never due: no entry
        if timeout < LONG:
            when = watched_from = deadline
        else:
            when = math.ceil(deadline / TICK) * TICK
            watched_from = when - TICK
        heapq.heappush(self._heap, (when, next(self._order), watched_from, weakref.ref(sleeper)))
        if when < self._when:
            self._arm()
        return watched_from

    def __len__(self) -> int:
        return len(self._heap)

    def _fire(self, when: float) -> None:
        if when != self._when:
            return  # an earlier timer took over
        self._when = -math.inf  # no timer while firing: sleepers may watch again
        now = asyncio.get_running_loop().time() + EARLY
        heap = self._heap
        try:
            while heap and heap[0][0] <= now:
                _, _, watched_from, ref = heapq.heappop(heap)
                if (sleeper := ref()) is not None:
                    sleeper.due(self, watched_from, now)
        finally:
            self._when = math.inf
            self._arm()

    def _arm(self) -> None:
        if heap := self._heap:
            self._when = heap[0][0]
            asyncio.get_running_loop().call_at(self._when, self._fire, self._when)


_tickers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Ticker] = weakref.WeakKeyDictionary()


def ticker_for(loop: asyncio.AbstractEventLoop) -> Ticker:
    """The loop's ticker, made on first use (loops of other threads get their own)."""
    ticker = _tickers.get(loop)
    if ticker is None:
        ticker = _tickers[loop] = Ticker()
    return ticker
