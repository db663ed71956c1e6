"""A drop-in for Django's ``get_asgi_application()`` that holds no thread per stream.

Django's ``ASGIHandler`` runs each request's sync work (``request_started``
receivers, sync middleware, ``sync_to_async`` ORM calls) on a thread created for
that request and alive until the response ends: an open event stream would pin
a thread for hours. This handler runs each request in asgiref's
``ThreadSensitiveContext`` with one of a few shared single-thread executors, so
10,000 open streams share ``SSE_HANDLER_THREADS`` threads. Sync code of any one
request still runs on one thread, as Django expects.
"""

from __future__ import annotations

import itertools
import logging
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

from django_sse.conf import conf
from django_sse.delivery import shutdown
from django_sse.server import gate
from django_sse.server.backpressure import bound_daphne_buffers
from django_sse.server.fastpath import FastPath
from django_sse.server.watchdog import Watchdog
from django_sse.typing import Receive, Scope, Send

logger = logging.getLogger("django_sse.asgi")


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler on a fixed pool of thread-sensitive executors."""

    def __init__(self) -> None:
        super().__init__()
        count = max(1, conf.SSE_HANDLER_THREADS)
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-sse-{i}")
            for i in range(count)
        ]
        self._next_executor = itertools.cycle(self.executors)
        self.watchdog = Watchdog(conf.SSE_SEND_TIMEOUT)
        self.fast_path = FastPath.for_handler(self)  # None: every request takes Django's path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor, send = next(self._next_executor), self.watchdog.watch(send)
        try:
            if self.fast_path is not None and self.fast_path.serves(scope):
                # It enters the executor's context for the request's part only.
                await self.fast_path.handle(scope, receive, send, executor)
                return
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        except TimeoutError:
            logger.warning("closed %s: the client stopped reading", scope.get("path"))


def get_asgi_application() -> PooledASGIHandler:
    """Set Django up and return the pooled handler (use it in ``asgi.py``)."""
    django.setup(set_prefix=False)
    shutdown.ENABLED = True
    decision = gate.decide()
    gate.announce(decision)
    if decision.daphne:
        bound_daphne_buffers()
    return PooledASGIHandler()
