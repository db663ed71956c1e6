"""A project's middleware and a view, run on the event loop as Django would run them.

Under ASGI Django calls each hook of a ``MiddlewareMixin`` middleware through
``sync_to_async``: two thread hops per middleware per request, most of what opening
a stream costs. The hooks of Django's stock middleware do no I/O for the stream
endpoint (a GET whose session is read, never written), so :class:`InlineChain`
calls them directly, in Django's order and with Django's exception handling
(``convert_exception_to_response`` around each layer). A hook that would do I/O this
time still runs on the request's thread: a session to save, ``CSRF_USE_SESSIONS``,
messages to store.

Only middleware known here or listed in ``SSE_FAST_PATH_MIDDLEWARE`` run inline;
:func:`load_layers` raises :class:`NotInline` for any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers import exception as django_exception
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from django_sse.conf import conf

NeedsThread = Callable[[HttpRequest, HttpResponseBase | None], bool]
Hook = Callable[..., Any]


def _never(request: HttpRequest, response: HttpResponseBase | None) -> bool:
    return False


def _saves_session(request: HttpRequest, response: HttpResponseBase | None) -> bool:
    session = getattr(request, "session", None)
    return response is not None and (
        getattr(session, "modified", True) or settings.SESSION_SAVE_EVERY_REQUEST
    )


def _csrf_in_session(request: HttpRequest, response: HttpResponseBase | None) -> bool:
    return bool(settings.CSRF_USE_SESSIONS)  # the secret is read from and written to the session


def _stores_messages(request: HttpRequest, response: HttpResponseBase | None) -> bool:
    storage = getattr(request, "_messages", None)
    return response is not None and (
        getattr(storage, "used", True) or getattr(storage, "added_new", True)
    )


# Django's middleware whose hooks do no I/O on the stream endpoint, except when this
# says the hook (response None: process_request or process_view) needs the thread.
KNOWN: dict[str, NeedsThread] = {
    "django.middleware.security.SecurityMiddleware": _never,
    "django.contrib.sessions.middleware.SessionMiddleware": _saves_session,
    "django.middleware.common.CommonMiddleware": _never,
    "django.middleware.csrf.CsrfViewMiddleware": _csrf_in_session,
    "django.contrib.auth.middleware.AuthenticationMiddleware": _never,
    "django.contrib.messages.middleware.MessageMiddleware": _stores_messages,
    "django.middleware.clickjacking.XFrameOptionsMiddleware": _never,
}


class NotInline(Exception):
    """A middleware the fast path may not run on the event loop (the message says why)."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One middleware's hooks, and when one of them must run on the request's thread."""

    process_request: Hook | None
    process_view: Hook | None
    process_response: Hook | None
    process_exception: Hook | None
    needs_thread: NeedsThread

    async def call(self, hook: Hook, request: HttpRequest, *args: Any) -> Any:
        response = args[0] if hook is self.process_response else None
        if self.needs_thread(request, response):
            return await sync_to_async(hook, thread_sensitive=True)(request, *args)
        return hook(request, *args)


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _needs_thread(path: str, cls: Any) -> NeedsThread:
    if not (isinstance(cls, type) and issubclass(cls, MiddlewareMixin)):
        raise NotInline(f"{path} is not a MiddlewareMixin (hooks) middleware")
    if cls.__call__ is not MiddlewareMixin.__call__ or (
        cls.__acall__ is not MiddlewareMixin.__acall__
    ):
        raise NotInline(f"{path} overrides __call__")
    if hasattr(cls, "process_template_response"):
        raise NotInline(f"{path} has process_template_response")
    if (known := KNOWN.get(_dotted(cls))) is not None:
        return known
    if path in conf.SSE_FAST_PATH_MIDDLEWARE:
        return _never
    raise NotInline(f"{path} is not known to do no I/O")


def not_inline(paths: list[str]) -> str | None:
    """Why the middleware ``paths`` may not all run inline, or None if they may."""
    try:
        for path in paths:
            _needs_thread(path, import_string(path))
    except NotInline as exc:
        return str(exc)
    except ImportError:  # Django's own checks and handler report it
        return None
    return None


async def _unused(request: HttpRequest) -> HttpResponseBase:
    raise AssertionError("the inline chain calls hooks, never get_response")


def load_layers(paths: list[str]) -> list[Layer]:
    """Instances of ``paths`` (``settings.MIDDLEWARE``), or :class:`NotInline`."""
    layers = []
    for path in paths:
        needs_thread = _needs_thread(path, import_string(path))
        try:
            middleware = import_string(path)(_unused)
        except MiddlewareNotUsed:
            continue
        layers.append(
            Layer(
                process_request=getattr(middleware, "process_request", None),
                process_view=getattr(middleware, "process_view", None),
                process_response=getattr(middleware, "process_response", None),
                process_exception=getattr(middleware, "process_exception", None),
                needs_thread=needs_thread,
            )
        )
    return layers


async def _exception_response(request: HttpRequest, exc: Exception) -> HttpResponseBase:
    """``convert_exception_to_response``: call it inside the ``except`` block."""
    return await sync_to_async(django_exception.response_for_exception, thread_sensitive=False)(
        request, exc
    )


class InlineChain:
    """``BaseHandler._middleware_chain`` with each hook called on the event loop."""

    def __init__(self, handler: BaseHandler, layers: list[Layer]) -> None:
        self.handler = handler
        self.layers = layers
        self.view_layers = [layer for layer in layers if layer.process_view]
        self.exception_layers = [layer for layer in reversed(layers) if layer.process_exception]

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        entered = 0  # layers whose process_response runs
        for layer in self.layers:
            try:
                if layer.process_request:
                    response = await layer.call(layer.process_request, request)
            except Exception as exc:
                response = await _exception_response(request, exc)
                break
            entered += 1
            if response:
                break
        else:
            response = await self._view(request)
        for layer in reversed(self.layers[:entered]):
            if layer.process_response:
                try:
                    response = await layer.call(layer.process_response, request, response)
                except Exception as exc:
                    response = await _exception_response(request, exc)
        assert response is not None
        return response

    async def _view(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return await self._get_response(request)
        except Exception as exc:
            return await _exception_response(request, exc)

    async def _get_response(self, request: HttpRequest) -> HttpResponseBase:
        """``BaseHandler._get_response_async`` (no template-response middleware here)."""
        callback, args, kwargs = self.handler.resolve_request(request)
        response = None
        for layer in self.view_layers:
            assert layer.process_view is not None
            response = await layer.call(layer.process_view, request, callback, args, kwargs)
            if response:
                break
        if response is None:
            view: Callable[..., Any] = self.handler.make_view_atomic(callback)
            if not iscoroutinefunction(view):
                view = sync_to_async(view, thread_sensitive=True)
            try:
                response = await view(request, *args, **kwargs)
            except Exception as exc:
                response = await self._by_middleware(exc, request)
        self.handler.check_response(response, callback)
        render = getattr(response, "render", None)
        if callable(render):
            try:
                if iscoroutinefunction(render):
                    return await render()  # type: ignore[no-any-return]
                return await sync_to_async(render, thread_sensitive=True)()  # type: ignore[no-any-return]
            except Exception as exc:
                return await self._by_middleware(exc, request)
        return response

    async def _by_middleware(self, exc: Exception, request: HttpRequest) -> HttpResponseBase:
        """``process_exception`` hooks, on the request's thread as Django runs them."""
        if not self.exception_layers:
            raise exc

        def process() -> HttpResponseBase | None:
            for layer in self.exception_layers:
                assert layer.process_exception is not None
                if response := layer.process_exception(request, exc):
                    return response  # type: ignore[no-any-return]
            return None

        if response := await sync_to_async(process, thread_sensitive=True)():
            return response
        raise exc
