"""Graceful shutdown: on SIGTERM or SIGINT, end every stream cleanly, then stop.

A stream cut by a dying process looks like a network error to the browser, which
waits its full ``retry:`` delay. Ended cleanly, with a short randomised ``retry:``
first, the browser reconnects within a second, to another process behind the load
balancer, and resumes from its cursor. The server's own handler runs after
``DRAIN_SECONDS``, as if we had not been there.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

logger = logging.getLogger("django_sse.shutdown")

DRAIN_SECONDS = 0.5  # between ending the streams and the server's own shutdown
ENABLED = False  # set by django_sse.asgi.get_asgi_application(): we serve this process
SIGNALS = (signal.SIGTERM, signal.SIGINT)
_installed: dict[int, Any] = {}


def install(loop: asyncio.AbstractEventLoop, drain: Callable[[], None]) -> None:
    """Chain a drain in front of the running server's signal handlers (main thread only)."""
    if _installed:
        return
    for signum in SIGNALS:
        try:
            previous = signal.getsignal(signum)
            signal.signal(signum, _handler(loop, drain, previous))
        except ValueError:  # not the main thread: leave the server's handling alone
            return
        _installed[signum] = previous


def _handler(
    loop: asyncio.AbstractEventLoop, drain: Callable[[], None], previous: Any
) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %s: ending every stream before shutdown", signum)
        signal.signal(signum, previous)  # a second signal goes straight to the server
        loop.call_soon_threadsafe(drain)
        loop.call_soon_threadsafe(loop.call_later, DRAIN_SECONDS, _forward, signum, previous)

    return handle


def _forward(signum: int, previous: Any) -> None:
    if callable(previous):
        previous(signum, None)
    elif previous == signal.SIG_DFL:
        signal.raise_signal(signum)
