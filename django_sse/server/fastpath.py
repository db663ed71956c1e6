"""The stream endpoint without Django's thread hops (``SSE_FAST_PATH``, on by default).

Most of what opening a stream costs under Django's ``ASGIHandler`` is its request
path: two ``sync_to_async`` hops per middleware, a ``TaskGroup`` per request, the
``StreamingHttpResponse`` wrappers around every chunk, and a request and response
kept alive for the stream's whole life. For a request whose path resolves to
``django_sse.views.stream``, :class:`FastPath` does what ``ASGIHandler.handle``
does, except that

- the request's part (body, signals, request, middleware, view) runs in a task of
  its own, whose context goes with it; Django's own ``request_started`` and
  ``request_finished`` receivers run only if the request uses its thread
  (``django_sse.server.request_thread``);
- the middleware's hooks run on the event loop (``django_sse.server.inline_middleware``);
- the stream's bytes go from the connection's generator straight to ``send``
  (:class:`django_sse.http.StreamResponse`), and the connection may write live frames through
  ``send`` itself (``django_sse.delivery.directsend``); the request and response are let
  go once the headers are sent;
- one task waits for ``http.disconnect`` and then cancels the stream, as Django does.

The rest is Django's own code: the request class, the signals, the view with all
its checks, exception responses, and ``send_response`` for any other answer (403,
``HEAD``, a stream whose body a middleware wrapped). See docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.apps import apps
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi as django_asgi
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLResolver, get_resolver, set_script_prefix, set_urlconf
from django.utils.log import log_response

from django_sse.http import StreamResponse
from django_sse.server import gate
from django_sse.server.inline_middleware import InlineChain, NotInline, load_layers
from django_sse.server.request_thread import RequestThread, only_thread_bound
from django_sse.typing import Message, Receive, Scope, Send

logger = logging.getLogger("django_sse.server.fastpath")

RESOLVED_PATHS = 512  # paths whose answer (the stream or not) is remembered
# A stream's head: the start message, the body, and who may also write through send.
_Head = tuple[dict[str, Any], AsyncGenerator[bytes], Callable[[Send], None] | None]


class FastPath:
    """``ASGIHandler.handle`` for the stream endpoint, on behalf of ``handler``."""

    def __init__(self, handler: ASGIHandler) -> None:
        from django_sse.views import stream  # the endpoint (views needs the apps ready)

        self.handler = handler
        self.chain = InlineChain(handler, load_layers(list(settings.MIDDLEWARE)))
        self.view = stream
        self.requests = 0  # taken by the fast path, for tests and curious operators

    @classmethod
    def for_handler(cls, handler: ASGIHandler) -> FastPath | None:
        """The fast path, or None: the gate says no (``SSE_FAST_PATH`` off, an untested
        Django, a name of another shape), django_sse is not an installed app (a project
        using only the pooled handler), or a middleware is not inline."""
        if not gate.decide().fast_path or not apps.is_installed("django_sse"):
            return None
        try:
            return cls(handler)
        except NotInline:
            return None
        except Exception:  # a Django of another shape: its own request path, never a crash
            logger.warning(
                "the stream endpoint's fast path is off: it cannot be set up on this "
                "Django; streams take Django's own request path",
                exc_info=True,
            )
            return None

    def serves(self, scope: Scope) -> bool:
        """Does this request's path resolve to the endpoint (``ROOT_URLCONF``)?"""
        resolver = get_resolver(settings.ROOT_URLCONF)
        return _resolves_to(resolver, _path_info(scope), self.view)

    async def handle(self, scope: Scope, receive: Receive, send: Send, executor: Executor) -> None:
        """Serve one request; ``executor`` runs its sync work (thread-sensitive)."""
        self.requests += 1
        sender = type(self.handler)
        thread = _lazy_thread(executor, sender, scope)
        # The request's part in a task of its own, so that what Django and asgiref
        # leave in the context (the thread-sensitive executor, the URLconf, the
        # script prefix) goes with it, not kept for the stream's whole life.
        head = await asyncio.create_task(self._respond(scope, receive, send, thread, executor))
        used_thread = thread is None or thread.used  # final: the stream never uses it
        del thread  # nothing of the request is kept (its start holds the scope)
        if head is not None:
            events = await _send_head(head, send)
            del head
            await until_disconnect(_pump(events, send, sender), receive)
            if used_thread or not only_thread_bound(request_finished, sender):
                async with ThreadSensitiveContext(executor=executor):
                    await request_finished.asend(sender=sender)

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        thread: RequestThread | None,
        executor: Executor,
    ) -> _Head | None:
        """Answer, or return the stream's head and body for the caller to send."""
        async with ThreadSensitiveContext(executor=thread or executor):
            try:
                body_file = await self.handler.read_body(receive)
            except RequestAborted:
                return None
            with contextlib.closing(body_file):
                set_script_prefix(django_asgi.get_script_prefix(scope))
                if thread is None:
                    await request_started.asend(sender=type(self.handler), scope=scope)
                return await self._answer(scope, receive, send, body_file)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, body_file: Any
    ) -> _Head | None:
        request, response = self.handler.create_request(scope, body_file)
        if request is not None:
            response = await self._get_response(request)
        assert response is not None
        if isinstance(response, StreamResponse) and response.events is not None:
            head = (start_message(response), response.events, response.direct)
            _release(response)
            return head
        if response.streaming:
            await until_disconnect(self.handler.send_response(response, send), receive)
        else:
            await self.handler.send_response(response, send)
        await sync_to_async(response.close)()
        return None

    async def _get_response(self, request: HttpRequest) -> HttpResponseBase:
        """``BaseHandler.get_response_async`` over the inline middleware."""
        set_urlconf(settings.ROOT_URLCONF)
        response = await self.chain(request)
        _closers(response).append(request.close)
        response._handler_class = type(self.handler)  # type: ignore[attr-defined]
        if response.status_code >= 400:
            await sync_to_async(log_response, thread_sensitive=False)(
                "%s: %s",
                response.reason_phrase,
                request.path,
                response=response,  # type: ignore[arg-type]
                request=request,
            )
        return response


def _lazy_thread(executor: Executor, sender: type, scope: Scope) -> RequestThread | None:
    """The request's thread, started lazily, if only Django's receivers need it started."""
    if not only_thread_bound(request_started, sender):
        return None
    return RequestThread(executor, functools.partial(request_started.send, sender, scope=scope))


@functools.lru_cache(maxsize=RESOLVED_PATHS)
def _resolves_to(resolver: URLResolver, path_info: str, view: object) -> bool:
    try:
        return resolver.resolve(path_info).func is view
    except Exception:  # Resolver404 and the like: Django's own path answers those
        return False


def _path_info(scope: Scope) -> str:
    """``ASGIRequest.path_info``, from the scope alone."""
    path: str = scope["path"]
    script_name = django_asgi.get_script_prefix(scope).rstrip("/")
    if script_name and (path.startswith(script_name + "/") or path == script_name):
        return path[len(script_name) :]
    return path


def start_message(response: HttpResponseBase) -> dict[str, Any]:
    """``http.response.start`` for ``response``, as ``ASGIHandler.send_response`` makes it."""
    headers = [
        (
            header.encode("ascii") if isinstance(header, str) else bytes(header),
            value.encode("latin1") if isinstance(value, str) else bytes(value),
        )
        for header, value in response.items()
    ]
    headers += [
        (b"Set-Cookie", c.OutputString().encode("ascii")) for c in response.cookies.values()
    ]
    return {"type": "http.response.start", "status": response.status_code, "headers": headers}


def _closers(response: HttpResponseBase) -> list[Callable[[], object]]:
    return response._resource_closers  # type: ignore[attr-defined,no-any-return]


def _release(response: HttpResponseBase) -> None:
    """``response.close()`` less ``request_finished``, which waits for the stream's end."""
    for closer in _closers(response):
        with contextlib.suppress(Exception):
            closer()
    _closers(response).clear()


async def _send_head(head: _Head, send: Send) -> AsyncGenerator[bytes]:
    """Send the start message; the body is then the caller's to send."""
    start, events, direct = head
    await send(start)
    if direct is not None:
        direct(send)
    return events


async def _pump(events: AsyncGenerator[bytes], send: Send, handler: type[ASGIHandler]) -> None:
    try:  # contextlib.aclosing, less an object kept for the stream's life
        async for chunk in events:
            big = len(chunk) > handler.chunk_size  # split as Django does
            parts = handler.chunk_bytes(chunk) if big else ((chunk, True),)
            for part, _ in parts:
                await send({"type": "http.response.body", "body": part, "more_body": True})
            del chunk, parts, part  # an idle stream keeps no copy of what it last sent
    finally:
        await events.aclose()
    await send({"type": "http.response.body"})


async def until_disconnect(work: Awaitable[None], receive: Receive) -> None:
    """Run ``work``; when the client goes away, cancel it (its ``finally`` cleans up).

    One listening task and a cancel of the current one, instead of Django's
    ``TaskGroup`` of two: a cancel that is ours is absorbed, any other goes on.
    """
    task = asyncio.current_task()
    assert task is not None
    watch = _Disconnect(task)
    listener = asyncio.ensure_future(receive())
    listener.add_done_callback(watch.on_message)
    try:
        await work
    except asyncio.CancelledError:
        if not watch.aborted or task.uncancel() > 0:
            raise
    finally:
        watch.live = False
        listener.cancel()


class _Disconnect:
    """Cancels ``task`` when the request's next message comes (a disconnect) while live."""

    __slots__ = ("task", "live", "aborted")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.live = True
        self.aborted = False

    def on_message(self, listener: asyncio.Future[Message]) -> None:
        if listener.cancelled():
            return
        listener.exception()  # retrieved: a failed receive ends the stream too
        if self.live:
            self.aborted = True
            self.task.cancel()
