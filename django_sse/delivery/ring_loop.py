"""Where a sync publisher's rings go: the hub's loop, or the process's publisher loop.

Inside a server the hub's loop sends them. Anywhere else (a task queue worker,
a management command, the shell) one event loop on a daemon thread of its own,
started on first use, sends them over one long-lived layer connection: no
thread, loop or connection per event. After ``fork()`` (a prefork worker pool)
the child starts its own on first use. At exit what is still queued is sent,
for up to ``EXIT_FLUSH`` seconds, and the loop stops.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading

from django_sse.delivery.hub import running_hub
from django_sse.delivery.ringer import (
    WORKER_GATHER,
    Ringer,
    all_ringers,
    forget_ringers,
    ringer_for,
)

EXIT_FLUSH = 5.0  # seconds the exiting process waits for its queued rings
STOP_JOIN = 1.0  # seconds to wait for the loop's thread once told to stop

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_hooked = False


def ringer() -> Ringer:
    """The ringer for a sync publisher on this thread."""
    hub = running_hub()
    if hub is not None:
        return ringer_for(hub.loop)
    return ringer_for(_publisher_loop(), WORKER_GATHER)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every ring queued so far in this process is sent (or has failed).

    ``True`` when all are out, ``False`` if ``timeout`` seconds passed first.
    Publishing never needs it; a test or a script that exits at once might.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None and any(r.loop is running for r in all_ringers()):
        raise RuntimeError("django_sse.flush() would block the loop that sends the rings")
    sent = True
    for each in all_ringers():  # every one, even after one timed out
        if not each.loop.is_closed():
            sent = each.wait(timeout) and sent
    return sent


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            _hook()
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(
                target=_run, args=(_loop,), name="django-sse-publisher", daemon=True
            )
            _thread.start()
        return _loop


def _run(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _hook() -> None:
    global _hooked
    if not _hooked:
        _hooked = True
        atexit.register(stop)
        os.register_at_fork(after_in_child=_forget)


def stop(timeout: float = EXIT_FLUSH) -> None:
    """Send what is queued (for up to ``timeout`` seconds), then stop the publisher loop."""
    global _loop, _thread
    with _lock:
        loop, thread, _loop, _thread = _loop, _thread, None, None
    if loop is None or thread is None:
        return
    if thread.is_alive():
        ringer_for(loop).wait(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_JOIN)


def _forget() -> None:
    """In a forked child: the parent's publisher thread does not exist here."""
    global _lock, _loop, _thread
    _lock = threading.Lock()
    _loop = _thread = None
    forget_ringers()
