"""The send watchdog: one timer per loop closes requests whose send stays pending."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable

import pytest

from django_sse.server.watchdog import Watchdog
from django_sse.typing import Message


async def stuck(message: Message) -> None:
    await asyncio.Event().wait()  # the client stopped reading


async def slow(message: Message) -> None:
    await asyncio.sleep(0.02)  # the client reads, a little late


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


async def test_a_send_pending_past_the_timeout_raises_timeout_error() -> None:
    send = Watchdog(0.1).watch(stuck)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await send({"type": "http.response.body"})
    waited = time.monotonic() - started
    assert 0.1 <= waited < 1.0  # the timeout plus at most one look (0.025 s) and slack
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_sends_that_complete_are_never_cancelled() -> None:
    send = Watchdog(0.05).watch(slow)
    for _ in range(10):  # 0.2 s of sends in all, each well within the timeout
        await send({"type": "http.response.body"})
    assert send.pending.sends == set()


async def test_the_timer_stops_when_no_send_is_pending() -> None:
    watchdog = Watchdog(0.1)
    sends = [watchdog.watch(slow) for _ in range(100)]
    writes = [asyncio.ensure_future(s({"type": "http.response.body"})) for s in sends]
    pending = sends[0].pending
    assert all(s.pending is pending for s in sends)  # one per loop, not per request
    await eventually(lambda: bool(pending.sends))
    assert pending.armed  # looked at while sends are pending (however late the loop runs)
    await asyncio.gather(*writes)
    await eventually(lambda: not pending.armed)


async def test_a_send_cancelled_by_someone_else_stays_cancelled() -> None:
    send = Watchdog(0.05).watch(stuck)
    task = asyncio.create_task(send({"type": "http.response.body"}))
    await eventually(lambda: bool(send.pending.sends))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not send.expired


async def test_only_the_stalled_request_is_closed() -> None:
    watchdog = Watchdog(0.1)
    stalled = asyncio.create_task(watchdog.watch(stuck)({"type": "http.response.body"}))
    reader = watchdog.watch(slow)
    async with asyncio.timeout(5):
        while not stalled.done():
            await reader({"type": "http.response.body"})
    assert isinstance(stalled.exception(), TimeoutError)


def test_each_loop_has_its_own_timer_and_a_closed_loop_is_let_go() -> None:
    watchdog = Watchdog(0.05)
    both_serving = threading.Barrier(2, timeout=5)
    results: list[tuple[int, type[BaseException]]] = []

    async def stall() -> None:
        send = watchdog.watch(stuck)
        both_serving.wait()
        try:
            await send({"type": "http.response.body"})
        except TimeoutError as error:
            results.append((id(send.pending), type(error)))

    threads = [threading.Thread(target=asyncio.run, args=(stall(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert [error for _, error in results] == [TimeoutError, TimeoutError]
    assert results[0][0] != results[1][0]
    gc.collect()
    assert len(watchdog._loops) == 0
