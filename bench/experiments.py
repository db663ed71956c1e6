"""Reversals of core optimisations, patched in at server start to measure their gain.

Bench-only: ``DJANGO_SSE_BENCH_PATCHES=sendtimer,nolinger,...`` makes ``bench.asgi``
call :func:`apply` before it builds the handler. Each optimisation began here as a
prototype (docs/benchmarks.md); now that they are in the core, each patch puts the
old way back, so one run measures what the change buys:

- ``notimeout``: no send timeout at all (not even ``django_sse.watchdog``, which
  replaced ``asyncio.timeout`` around each send): what the watchdog still costs.
- ``sendtimer``, ``waittimer``: back to the timer per send (``asyncio.timeout``)
  and per wait (``call_later``) that the watchdog and the ticker replaced.
- ``nowritethrough``: every body chunk through Twisted's write path (daphne).
- ``nolinger``: a stream is left as soon as its last connection goes, so a
  reconnect storm joins again and replays from the log, not from recent frames.
- ``slowpath``: ``SSE_FAST_PATH = False``, the endpoint through Django's own request
  path, to compare with the pooled handler's fast path (done by ``bench.settings``).
"""

from __future__ import annotations

from typing import Any

PATCHES = (
    "notimeout",
    "sendtimer",
    "waittimer",
    "nowritethrough",
    "nolinger",
    "slowpath",
    "nogc",
    "gcfreeze",
)


def apply(names: list[str]) -> None:
    if unknown := set(names) - set(PATCHES):
        raise ValueError(f"unknown patches: {', '.join(sorted(unknown))}")
    for name in names:
        globals()[f"_{name}"]()


def _notimeout() -> None:
    from django_sse.watchdog import Watchdog

    def bare(self: Watchdog, send: Any) -> Any:
        return send

    Watchdog.watch = bare  # type: ignore[method-assign]


def _sendtimer() -> None:
    import asyncio

    from django_sse.watchdog import Watchdog

    def with_timeout(self: Watchdog, send: Any) -> Any:
        async def send_within_timeout(message: Any) -> None:
            async with asyncio.timeout(self.timeout):
                await send(message)

        return send_within_timeout

    Watchdog.watch = with_timeout  # type: ignore[method-assign]


def _waittimer() -> None:
    import asyncio

    from django_sse.subscription import Subscription, _wake

    async def wait(self: Subscription, timeout: float) -> None:
        if self._queue or self.overflowed or self.ended:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    Subscription.wait = wait  # type: ignore[method-assign]


def _slowpath() -> None:
    """Done by ``bench.settings`` (``SSE_FAST_PATH``)."""


def _nowritethrough() -> None:
    from django_sse import writethrough

    writethrough.write_body_now = lambda request, message: False


def _nolinger() -> None:
    from django_sse import hub

    hub.LINGER = 0.0


def _nogc() -> None:
    import gc

    gc.disable()


def _gcfreeze() -> None:
    import gc

    gc.collect()
    gc.freeze()
