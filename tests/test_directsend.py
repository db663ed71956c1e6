"""DirectSend: an ASGI send run inline, finished by the stream's task when it suspends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from django_sse.delivery.directsend import DirectSend
from django_sse.typing import Message


class Server:
    """A send that completes at once unless ``paused``; records every body written."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.finished = 0  # sends whose coroutine ran to its end (or its finally)
        self.error: Exception | None = None

    async def send(self, message: Message) -> None:
        try:
            if self.error is not None:
                raise self.error
            await self.resumed.wait()  # no suspension while set
            self.bodies.append(message["body"])
            assert message["more_body"] is True
        finally:
            self.finished += 1


def held(chunk: bytes) -> tuple[Server, DirectSend]:
    """A client that stopped reading, and ``chunk`` written to it (suspended)."""
    server = Server()
    server.resumed.clear()
    direct = DirectSend(server.send)
    assert not direct.write(chunk)
    return server, direct


async def test_a_send_that_does_not_suspend_is_written_at_once() -> None:
    server = Server()
    direct = DirectSend(server.send)
    assert direct.write(b"one") and direct.write(b"two")
    assert server.bodies == [b"one", b"two"] and not direct.busy
    await direct.finish()  # nothing to finish


async def test_a_suspended_send_is_finished_by_the_caller_in_order() -> None:
    server = Server()
    server.resumed.clear()  # the client stopped reading: the server pushes back
    direct = DirectSend(server.send)
    assert not direct.write(b"one")
    assert direct.busy and server.bodies == []
    with pytest.raises(AssertionError, match="unfinished"):
        direct.write(b"two")  # the connection never does this: it queues instead
    finishing = asyncio.create_task(direct.finish())
    await asyncio.sleep(0.01)
    assert not finishing.done()  # still waiting for the client
    server.resumed.set()
    await finishing
    assert server.bodies == [b"one"] and not direct.busy
    assert direct.write(b"two") and server.bodies == [b"one", b"two"]


async def test_the_sends_error_is_raised_by_finish() -> None:
    server = Server()
    server.error = ConnectionResetError("gone")
    direct = DirectSend(server.send)
    assert not direct.write(b"lost")
    with pytest.raises(ConnectionResetError, match="gone"):
        await direct.finish()
    assert not direct.busy


async def test_cancelling_the_finishing_task_cancels_the_send() -> None:
    server, direct = held(b"stuck")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):  # as the send watchdog does
            await direct.finish()
    assert server.finished == 1 and server.bodies == []


async def test_discarding_an_unfinished_send_runs_its_cleanup() -> None:
    server, direct = held(b"never")
    direct.discard()
    assert server.finished == 1 and not direct.busy
    direct.discard()  # twice is harmless


async def test_a_send_returning_a_plain_awaitable_is_stepped_too() -> None:
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[None]] = []

    def send(message: Message) -> Awaitable[None]:
        future = loop.create_future()
        futures.append(future)
        return future

    direct = DirectSend(send)
    assert not direct.write(b"x")  # a pending future suspends
    finishing = asyncio.create_task(direct.finish())
    await asyncio.sleep(0)
    futures[0].set_result(None)
    await finishing
    done = loop.create_future()
    done.set_result(None)
    assert DirectSend(lambda message: done).write(b"y")  # a done one does not


async def test_a_send_that_absorbs_the_cancellation_ends_the_finish_normally() -> None:
    resumed = asyncio.Event()

    async def send(message: Message) -> None:
        try:
            await resumed.wait()
        except asyncio.CancelledError:
            return  # e.g. a server that gives up on the write quietly

    direct = DirectSend(send)
    direct.write(b"x")
    finishing = asyncio.create_task(direct.finish())
    await asyncio.sleep(0)
    finishing.cancel()
    await finishing  # the send returned: nothing to raise
    assert not direct.busy


async def test_closing_the_task_that_finishes_closes_the_send() -> None:
    server, direct = held(b"x")
    finishing = direct.finish()
    finishing.send(None)  # now awaiting the server's event
    finishing.close()  # as a garbage-collected task's coroutine is
    assert server.finished == 1
