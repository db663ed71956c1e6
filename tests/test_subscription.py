"""A subscription's wait: ended by a frame, an end, or its deadline via the loop's ticker."""

from __future__ import annotations

import asyncio
import gc
import math
import threading
import weakref
from collections.abc import Callable

import pytest

from django_sse.delivery import ticker
from django_sse.delivery.subscription import Subscription
from django_sse.delivery.ticker import EARLY, ticker_for

SLACK = 1.0  # seconds a loaded machine may add to a wake-up


def subscription() -> Subscription:
    return Subscription(("feed",), max_pending=10)


async def timed_wait(sub: Subscription, timeout: float) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sub.wait(timeout)
    return loop.time() - started


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


async def test_a_short_wait_ends_at_its_deadline() -> None:
    waited = await timed_wait(subscription(), 0.05)
    assert 0.05 - EARLY <= waited < 0.05 + SLACK


async def test_long_waits_end_together_on_the_tick_at_most_one_tick_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ticker, "TICK", 0.1)
    monkeypatch.setattr(ticker, "LONG", 0.4)
    subs = [subscription() for _ in range(20)]
    waits = []
    for sub in subs:  # deadlines spread over 0.04 s
        waits.append(asyncio.create_task(timed_wait(sub, 0.4)))
        await asyncio.sleep(0.002)
    await eventually(lambda: all(s._waiter is not None for s in subs))
    entries = ticker_for(asyncio.get_running_loop())._heap
    assert len({when for when, *_ in entries}) <= 2  # on the grid: one or two timers
    assert all(0.4 - EARLY <= w < 0.5 + SLACK for w in await asyncio.gather(*waits))


async def test_a_frame_or_an_end_wakes_the_wait_at_once() -> None:
    sub = subscription()
    waiting = asyncio.create_task(timed_wait(sub, 30.0))
    await eventually(lambda: sub._waiter is not None)
    sub.push("feed", 1, b"data: x\n\n")
    assert await waiting < SLACK
    assert sub.take() == [("feed", 1, b"data: x\n\n")]
    waiting = asyncio.create_task(timed_wait(sub, 30.0))
    await eventually(lambda: sub._waiter is not None)
    sub.end("logout")
    assert await waiting < SLACK
    assert await timed_wait(sub, 30.0) < SLACK  # ended: no wait at all


async def test_waits_woken_by_frames_leave_one_entry_in_the_ticker() -> None:
    sub = subscription()
    loop = asyncio.get_running_loop()
    for seq in range(1000):
        loop.call_soon(sub.push, "feed", seq, b"data: x\n\n")
        await sub.wait(30.0)
        sub.take()
    assert len(ticker_for(loop)) == 1


async def test_a_deadline_moved_later_is_honoured_not_the_first_one() -> None:
    sub = subscription()
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, sub.push, "feed", 1, b"data: x\n\n")
    await sub.wait(0.1)  # its entry in the ticker is for 0.1 s from now
    sub.take()
    waited = await timed_wait(sub, 0.15)  # ends 0.2 s from the start, not 0.1
    assert 0.15 - EARLY <= waited < 0.15 + SLACK


async def test_a_deadline_moved_earlier_is_honoured() -> None:
    sub = subscription()
    loop = asyncio.get_running_loop()
    loop.call_soon(sub.push, "feed", 1, b"data: x\n\n")
    await sub.wait(30.0)
    sub.take()
    waited = await timed_wait(sub, 0.05)
    assert 0.05 - EARLY <= waited < 0.05 + SLACK


async def test_a_wait_without_deadline_ends_only_on_a_frame() -> None:
    sub = subscription()
    loop = asyncio.get_running_loop()
    loop.call_soon(sub.push, "feed", 1, b"data: x\n\n")
    await sub.wait(0.05)  # leaves an entry due in 0.05 s
    sub.take()
    loop.call_later(0.2, sub.push, "feed", 2, b"data: x\n\n")
    assert 0.2 - EARLY <= await timed_wait(sub, math.inf) < 0.2 + SLACK
    assert len(ticker_for(loop)) == 0


async def test_many_subscriptions_each_end_on_their_deadline_or_frame() -> None:
    subs = [subscription() for _ in range(2000)]
    timeouts = [0.02 + (i % 10) * 0.01 for i in range(len(subs))]
    waits = [asyncio.create_task(timed_wait(s, t)) for s, t in zip(subs, timeouts, strict=True)]
    await eventually(lambda: all(s._waiter is not None for s in subs))
    for sub in subs[::2]:
        sub.push("feed", 1, b"data: x\n\n")
    waited = await asyncio.gather(*waits)
    assert all(w < SLACK for w in waited[::2])
    assert all(
        t - EARLY <= w < t + SLACK for w, t in zip(waited[1::2], timeouts[1::2], strict=True)
    )


async def test_the_ticker_stops_when_nothing_waits() -> None:
    loop = asyncio.get_running_loop()
    subs = [subscription() for _ in range(10)]
    await asyncio.gather(*[s.wait(0.01 * i) for i, s in enumerate(subs)])
    tick = ticker_for(loop)
    await eventually(lambda: len(tick) == 0)
    assert tick._when == float("inf")


def test_a_closed_loop_is_let_go_with_its_ticker() -> None:
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def wait_on_each_thread() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        sub = subscription()
        assert 0.05 - EARLY <= await timed_wait(sub, 0.05) < 0.05 + SLACK
        asyncio.get_running_loop().call_soon(sub.push, "feed", 1, b"data: x\n\n")
        await sub.wait(30.0)  # leaves an entry 30 s ahead in the ticker
        asyncio.create_task(subscription().wait(30.0))  # cancelled as the loop closes

    threads = [threading.Thread(target=asyncio.run, args=(wait_on_each_thread(),)) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    gc.collect()
    assert len(loops) == 2
    assert [loop() for loop in loops] == [None, None]


class Writer:
    """A connection writing directly: every frame but ``declined``; a deadline moved on."""

    def __init__(self, declined: int | None = None, extra: float | None = None) -> None:
        self.declined = declined
        self.extra = extra  # seconds each passed deadline is moved by (None: wake)
        self.written: list[int | None] = []
        self.deadlines = 0

    def deliver(self, stream: str, seq: int | None, frame: bytes) -> bool:
        if seq == self.declined:
            return False  # e.g. a gap: the connection's task must see it
        self.written.append(seq)
        return True

    def deadline(self, now: float) -> float | None:
        self.deadlines += 1
        return None if self.extra is None else now + self.extra


async def test_a_waiting_subscription_hands_frames_to_direct_until_it_declines_one() -> None:
    sub = subscription()
    writer = Writer(declined=3)
    waiting = asyncio.create_task(sub.wait(30.0, writer))
    await eventually(lambda: sub._waiter is not None)
    for seq in (1, 2):
        sub.push("feed", seq, b"data: x\n\n")
    assert writer.written == [1, 2] and sub.pending == 0 and not waiting.done()
    sub.push("feed", 3, b"data: x\n\n")  # declined: queued, and the wait ends
    sub.push("feed", 4, b"data: x\n\n")  # queued behind it, never handed to direct
    await waiting
    assert writer.written == [1, 2]
    assert [seq for _, seq, _ in sub.take()] == [3, 4]


async def test_wake_ends_the_wait_and_frames_queue_until_the_next_one() -> None:
    sub = subscription()
    writer = Writer()
    waiting = asyncio.create_task(sub.wait(30.0, writer))
    await eventually(lambda: sub._waiter is not None)
    sub.wake()
    sub.push("feed", 1, b"data: x\n\n")
    await waiting
    assert writer.written == [] and [seq for _, seq, _ in sub.take()] == [1]


async def test_direct_keeps_the_wait_going_past_deadlines_until_it_says_stop() -> None:
    sub = subscription()
    writer = Writer(extra=0.02)  # a heartbeat written at each deadline
    waiting = asyncio.create_task(sub.wait(0.02, writer))
    await eventually(lambda: writer.deadlines >= 3)
    assert not waiting.done()
    writer.extra = None  # e.g. the maximum age: the task must close the stream
    await asyncio.wait_for(waiting, SLACK)
    assert len(ticker_for(asyncio.get_running_loop())) <= 1
