"""The stream endpoint's request thread, used (and so started) only when needed.

Under ASGI Django sends ``request_started`` and ``request_finished`` with
``asend``: their sync receivers run on the request's thread, a thread hop each
(about a third of the CPU of opening a stream, and the one place a connect
burst queues). Django's own receivers of both signals (``reset_queries``,
``close_old_connections``, ``close_caches``, ``reset_urlconf``) only tidy
state of the thread they run on, or of the request's context. So when no other
receiver listens, :class:`RequestThread` runs ``request_started``'s receivers as
the first job of the request's thread, just before the request's own first sync
work (a session read, a sync hook), and the fast path sends ``request_finished``
only if the request used its thread. A stream that never needs its thread (an
anonymous visitor, a cookie-less client, signed-cookie sessions) makes no hop.
Any other receiver, sync or async, brings Django's behaviour back: both signals
sent with ``asend``, as ``ASGIHandler`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from django.core.cache import close_caches
from django.core.handlers import base as django_base
from django.db import close_old_connections, reset_queries
from django.dispatch import Signal

# Receivers of Django's that act only on the calling thread's connections or
# caches, or on the request's own context.
# (Looked up, not imported: a Django without one of them still starts; see the gate.)
THREAD_BOUND = frozenset(
    f
    for f in (reset_queries, close_old_connections, close_caches)
    + (getattr(django_base, "reset_urlconf", None),)
    if f is not None
)


def only_thread_bound(signal: Signal, sender: type) -> bool:
    """Are all of ``signal``'s receivers for ``sender`` Django's thread-bound ones?

    ``Signal._live_receivers`` (Django 5.0+) is private: if its shape ever changes,
    the answer is no, and the signals are sent as ``ASGIHandler`` sends them.
    """
    try:
        sync, asynchronous = signal._live_receivers(sender)
        return not asynchronous and all(receiver in THREAD_BOUND for receiver in sync)
    except (AttributeError, TypeError, ValueError):
        return False


class RequestThread(Executor):
    """One request's thread-sensitive executor; its first job first runs ``start``.

    ``executor`` runs one job at a time on one thread (the pooled handler's), so
    ``start`` runs on the request's thread before anything else of the request.
    An error in ``start`` is the error of that first job, as an error of a
    receiver is the request's error under ``asend``.
    """

    def __init__(self, executor: Executor, start: Callable[[], object]) -> None:
        self.executor = executor
        self.start: Callable[[], object] | None = start
        self.used = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.used = True
        start, self.start = self.start, None
        if start is None:
            return self.executor.submit(fn, *args, **kwargs)
        return self.executor.submit(_after, start, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The pooled handler owns the thread: nothing to shut down here."""


def _after(start: Callable[[], object], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    start()
    return fn(*args, **kwargs)
