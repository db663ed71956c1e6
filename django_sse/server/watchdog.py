"""Closes requests whose client stopped reading, with one timer per event loop.

``asyncio.timeout()`` around every ASGI ``send`` would create and cancel a timer
per write (on uvloop a libuv timer each: a fifth of the CPU of a delivery). The
watchdog only notes when a send starts and forgets it when it ends; one timer
per event loop looks at the sends still pending and cancels the request whose
send has waited longer than the timeout, which then ends with ``TimeoutError``
as under ``asyncio.timeout()``. A client is closed between ``timeout`` and
``timeout + interval`` after it stopped reading; the timer stops when no send is
pending and comes back with the next one.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from django_sse.typing import Message, Send

INTERVAL = 1.0  # seconds between two looks at the pending sends, at most


class Watchdog:
    """One per handler: gives up on sends pending longer than ``timeout`` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.interval = min(INTERVAL, timeout / 4)
        # Weak keys: a closed loop goes away with its state (which holds no loop).
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pending] = (
            weakref.WeakKeyDictionary()
        )

    def watch(self, send: Send) -> WatchedSend:
        """Wrap one request's ``send``; call it on the loop that serves the request."""
        loop = asyncio.get_running_loop()
        pending = self._loops.get(loop)
        if pending is None:
            pending = self._loops[loop] = _Pending(self.timeout, self.interval)
        return WatchedSend(send, pending)


class _Pending:
    """The sends pending on one event loop, and whether a look is scheduled."""

    __slots__ = ("timeout", "interval", "sends", "armed")

    def __init__(self, timeout: float, interval: float) -> None:
        self.timeout = timeout
        self.interval = interval
        self.sends: set[WatchedSend] = set()
        self.armed = False  # no handle kept: it would hold the loop

    def arm(self) -> None:
        self.armed = True
        asyncio.get_running_loop().call_later(self.interval, self._look)

    def _look(self) -> None:
        if not self.sends:
            self.armed = False
            return
        stalled_since = time.monotonic() - self.timeout
        for send in [s for s in self.sends if s.started <= stalled_since]:
            send.expire()
        self.arm()


class WatchedSend:
    """One request's ``send``, noting when each write starts for the watchdog."""

    __slots__ = ("send", "pending", "started", "task", "expired", "cancelling")

    def __init__(self, send: Send, pending: _Pending) -> None:
        self.send = send
        self.pending = pending
        self.started = 0.0  # time.monotonic() when the pending send started
        self.task: asyncio.Task[Any] | None = None  # the task that sends
        self.expired = False  # cancelled by the watchdog
        self.cancelling = 0  # the task's cancellation count before that

    async def __call__(self, message: Message) -> None:
        pending = self.pending
        if self.task is None:  # Django sends a response from one task (current_task is slow)
            self.task = asyncio.current_task()
        self.started = time.monotonic()
        pending.sends.add(self)
        if not pending.armed:
            pending.arm()
        try:
            await self.send(message)
        except asyncio.CancelledError as error:
            if self._timed_out():
                raise TimeoutError from error
            raise
        finally:
            pending.sends.discard(self)

    def expire(self) -> None:
        task = self.task
        if task is not None and not self.expired:
            self.expired = True
            self.cancelling = task.cancelling()
            task.cancel()

    def _timed_out(self) -> bool:
        """Whether the cancellation is the watchdog's alone (then it is taken back)."""
        if not self.expired or self.task is None:
            return False
        self.expired = False
        return self.task.uncancel() <= self.cancelling
