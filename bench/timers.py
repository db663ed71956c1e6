"""Per-send and per-wait cost of the delivery path's timers, before and after.

    PYTHONPATH=. bench/.venv/bin/python bench/timers.py [--sends 100000] [--subs 1000]

Sends: ``--sends`` ASGI sends to a send that never blocks (a socket with room),
bare, under ``asyncio.timeout`` (a timer per send, as before) and through
``django_sse.server.watchdog`` (a timestamp and a set entry per send). Waits: ``--subs``
subscriptions each waiting with a 15 s heartbeat deadline, woken by a push
``--rounds`` times: with a ``call_later`` timer per wait (as before) and with
``django_sse.delivery.ticker`` (no timer per wait). On asyncio, and on uvloop when it is
installed. Prints µs per send or wait (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django_sse.delivery.subscription import Direct, Subscription, _wake
from django_sse.server.watchdog import Watchdog

Message = Mapping[str, Any]
HEARTBEAT = 15.0  # seconds: a wait's deadline, never reached here


async def inner_send(message: Message) -> None:
    pass


def with_timeout(
    send: Callable[[Message], Awaitable[None]],
) -> Callable[[Message], Awaitable[None]]:
    async def send_within_timeout(message: Message) -> None:
        async with asyncio.timeout(30.0):
            await send(message)

    return send_within_timeout


async def time_sends(kind: str, count: int) -> float:
    send: Callable[[Message], Awaitable[None]]
    if kind == "bare":
        send = inner_send
    elif kind == "asyncio.timeout":
        send = with_timeout(inner_send)
    else:
        send = Watchdog(30.0).watch(inner_send)
    message = {"type": "http.response.body", "body": b"data: x\n\n", "more_body": True}
    started = time.perf_counter()
    for _ in range(count):
        await send(message)
    return (time.perf_counter() - started) / count * 1e6


class TimerSubscription(Subscription):
    """The wait as it was: a ``call_later`` timer created and cancelled per wait."""

    __slots__ = ()

    async def wait(self, timeout: float, direct: Direct | None = None) -> None:
        if self._queue or self.overflowed or self.ended:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        self._direct = direct
        timer = loop.call_later(timeout, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = self._direct = None


async def time_waits(kind: str, subs: int, rounds: int) -> float:
    cls = TimerSubscription if kind == "call_later" else Subscription
    everyone = [cls(("feed",), max_pending=100) for _ in range(subs)]
    waits = 0

    async def follow(sub: Subscription) -> None:
        nonlocal waits
        while True:
            await sub.wait(HEARTBEAT)
            sub.take()
            waits += 1

    tasks = [asyncio.create_task(follow(s)) for s in everyone]
    await asyncio.sleep(0)  # every follower waits
    started = time.perf_counter()
    for seq in range(rounds):
        for sub in everyone:
            sub.push("feed", seq, b"data: x\n\n")
        await asyncio.sleep(0)  # every follower wakes, takes and waits again
    elapsed = time.perf_counter() - started
    assert waits == subs * rounds, (waits, subs * rounds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return elapsed / waits * 1e6


async def measure(args: argparse.Namespace) -> list[tuple[str, float]]:
    results = []
    for kind in ("bare", "asyncio.timeout", "watchdog"):
        best = min([await time_sends(kind, args.sends) for _ in range(args.repeat)])
        results.append((f"send, {kind}", best))
    for kind in ("call_later", "ticker"):
        runs = [await time_waits(kind, args.subs, args.rounds) for _ in range(args.repeat)]
        results.append((f"wait woken by a push, {kind}", min(runs)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=100_000)
    parser.add_argument("--subs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    loops: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {"asyncio": asyncio.new_event_loop}
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        loops["uvloop"] = uvloop.new_event_loop
    except ImportError:
        pass
    for name, factory in loops.items():
        with asyncio.Runner(loop_factory=factory) as runner:
            for label, micros in runner.run(measure(args)):
                print(f"{name:8} {label:40} {micros:6.2f} µs")


if __name__ == "__main__":
    main()
