"""Body chunks written through an ASGI ``send`` at once, from outside the request's task.

A live frame used to travel hub -> the subscription's queue -> a future woken ->
the stream's task resumed -> three async generators -> ``send``: most of the CPU
of a delivery, and a fresh future, queue list and loop handle per delivery that
the cyclic collector then had to promote and sweep. daphne's and uvicorn's
``send`` complete without suspending unless the client pushes back, so the hub
can run ``send`` itself, inline, while the stream's task stays parked.

:class:`DirectSend` starts the ``send`` coroutine and steps it once. If it
finishes, the chunk is written. If it suspends (uvicorn paused a slow client),
the rest of it is kept; the connection stops taking direct writes and wakes its
task, which awaits :meth:`DirectSend.finish` before it writes anything else, so
the bytes keep their order and the send completes (or times out, or fails) in
the request's own task, as every other send of the request does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Generator
from types import CoroutineType
from typing import Any

from django_sse.typing import Send


class DirectSend:
    """One response's ``send``, for ``more_body`` chunks written from anywhere on its loop."""

    __slots__ = ("send", "_rest")

    def __init__(self, send: Send) -> None:
        self.send = send
        self._rest: _Rest | None = None  # a send that suspended, or failed

    @property
    def busy(self) -> bool:
        """A send is unfinished: nothing more may be written before :meth:`finish`."""
        return self._rest is not None

    def write(self, chunk: bytes) -> bool:
        """Send ``chunk`` now; False if the send suspended or failed (then :meth:`finish`)."""
        assert self._rest is None, "write() while a send is unfinished"
        coro = self.send({"type": "http.response.body", "body": chunk, "more_body": True})
        if type(coro) is not CoroutineType and not isinstance(coro, Coroutine):
            # A future or the like: step a coroutine around it.
            coro = _awaiting(coro)
        try:
            yielded = coro.send(None)
        except StopIteration:
            return True
        except BaseException as exc:  # the send's own error, raised again by finish()
            self._rest = _Rest(None, None, exc)
            return False
        self._rest = _Rest(coro, yielded)
        return False

    async def finish(self) -> None:
        """Complete an unfinished send in the caller's task (raises what the send raises)."""
        rest, self._rest = self._rest, None
        if rest is not None:
            await rest

    def discard(self) -> None:
        """Drop an unfinished send (the response is over): its ``finally`` blocks run."""
        rest, self._rest = self._rest, None
        if rest is not None and rest.coro is not None:
            rest.coro.close()


async def _awaiting(awaitable: Awaitable[None]) -> None:
    await awaitable


class _Rest:
    """The remainder of a coroutine that suspended on ``yielded``: awaiting it resumes it.

    What ``await`` would have done had the coroutine been awaited from the start
    (PEP 380's ``yield from``): pass what it yields to the awaiting task, and the
    task's answers and exceptions (a cancellation) back into it.
    """

    __slots__ = ("coro", "yielded", "error")

    def __init__(
        self,
        coro: Coroutine[Any, Any, None] | None,
        yielded: Any,
        error: BaseException | None = None,
    ) -> None:
        self.coro = coro
        self.yielded = yielded
        self.error = error

    def __await__(self) -> Generator[Any, Any, None]:
        if self.error is not None:
            raise self.error
        coro, yielded = self.coro, self.yielded
        assert coro is not None
        while True:
            try:
                value = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    yielded = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    yielded = coro.send(value)
                except StopIteration:
                    return
