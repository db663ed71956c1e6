"""Graceful shutdown: on SIGTERM or SIGINT, end every stream cleanly, then stop.

A stream cut by a dying process looks like a network error to the browser, which
waits its full ``retry:`` delay. Ended cleanly, with a short randomised ``retry:``
first, the browser reconnects within a second, to another process behind the load
balancer, and resumes from its cursor. The server's own handler runs after
``DRAIN_SECONDS``, as if we had not been there.

A signal the server ignores (``SIG_IGN``: daphne started with ``&`` from a script
ignores SIGINT) is ignored here too. And a drain is bounded: if the process is still
running ``GIVE_UP_SECONDS`` after the server's handler ran (a handler that does not
exit), the hub serves again and the next signal drains again, so clients are never
sent away for good by a process that stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

logger = logging.getLogger("django_sse.delivery.shutdown")

DRAIN_SECONDS = 0.5  # between ending the streams and the server's own shutdown
GIVE_UP_SECONDS = 30.0  # after the server's handler, still alive: serve again
ENABLED = False  # set by django_sse.asgi.get_asgi_application(): we serve this process
SIGNALS = (signal.SIGTERM, signal.SIGINT)
_installed: dict[int, Any] = {}


def install(
    loop: asyncio.AbstractEventLoop, drain: Callable[[], None], resume: Callable[[], None]
) -> None:
    """Chain a drain in front of the running server's signal handlers (main thread only)."""
    if _installed:
        return
    for signum in SIGNALS:
        try:
            previous = signal.getsignal(signum)
            if previous == signal.SIG_IGN:
                continue  # the server ignores it: so do we
            signal.signal(signum, _Handler(loop, signum, drain, resume, previous))
        except ValueError:  # not the main thread: leave the server's handling alone
            return
        _installed[signum] = previous


class _Handler:
    """Drain, then hand the signal to the server's handler; serve again if it stays."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        signum: int,
        drain: Callable[[], None],
        resume: Callable[[], None],
        previous: Any,
    ) -> None:
        self.loop, self.signum, self.previous = loop, signum, previous
        self.drain, self.resume = drain, resume

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        logger.info("signal %s: ending every stream before shutdown", signum)
        if self.previous is not None:  # None: a handler set outside Python, left in place
            signal.signal(signum, self.previous)  # a second signal goes straight to it
        self.loop.call_soon_threadsafe(self.drain)
        self.loop.call_soon_threadsafe(self.loop.call_later, DRAIN_SECONDS, self._forward)

    def _forward(self) -> None:
        if callable(self.previous):
            self.previous(self.signum, None)
        elif self.previous == signal.SIG_DFL:
            signal.raise_signal(self.signum)
        self.loop.call_later(GIVE_UP_SECONDS, self._give_up)

    def _give_up(self) -> None:
        logger.warning(
            "signal %s: the server did not stop within %.0f s of its own handler; "
            "serving streams again",
            self.signum,
            GIVE_UP_SECONDS,
        )
        self.resume()
        with contextlib.suppress(ValueError):
            signal.signal(self.signum, self)  # the next signal drains again
