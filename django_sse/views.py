"""The stream endpoint: ``GET`` answers ``text/event-stream`` for a user's streams."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseNotAllowed,
)
from django.views.decorators.csrf import csrf_exempt

from django_sse.auth import denied_streams
from django_sse.conf import conf
from django_sse.delivery.connection import Connection
from django_sse.delivery.db import release_request_connections
from django_sse.delivery.hub import get_hub
from django_sse.http import CONTENT_TYPE, StreamResponse, no_buffering
from django_sse.proxies import client_address
from django_sse.streams import session_digest, session_key, streams_for
from django_sse.tokens import InvalidToken, read_token

CORS_MAX_AGE = 86400  # seconds a browser may cache a preflight answer


def _with_headers(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    no_buffering(response)
    origin = request.headers.get("Origin")
    if origin and origin in conf.SSE_CORS_ALLOWED_ORIGINS:
        # The exact origin, never "*": EventSource's withCredentials needs it.
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
    response["Vary"] = "Origin, Cookie"
    return response


def _preflight(request: HttpRequest) -> HttpResponseBase:
    response = HttpResponse(status=204)
    response["Allow"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Methods"] = "GET"
    response["Access-Control-Allow-Headers"] = "Last-Event-ID, Cache-Control, Authorization"
    response["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    return _with_headers(request, response)


def _accepts_stream(request: HttpRequest) -> bool:
    # What EventSource sends (or nothing, or curl's */*) needs no parsing.
    accept = request.META.get("HTTP_ACCEPT")
    return accept in (None, CONTENT_TYPE, "*/*") or request.accepts(CONTENT_TYPE)


def _cursor(request: HttpRequest) -> str | None:
    # The header (sent by the browser on reconnect) wins over the query string.
    return request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or None


def _token(request: HttpRequest) -> str | None:
    """A subscription token: ``?token=`` (what EventSource can send) or a bearer header."""
    sent = request.headers.get("Authorization", "")
    if sent.startswith("Bearer "):
        return sent.removeprefix("Bearer ").strip()
    return request.GET.get("token")


def _unauthorized(reason: str) -> HttpResponse:
    response = HttpResponse(
        f"Subscription token refused: {reason}.", status=401, content_type="text/plain"
    )
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


async def _who(request: HttpRequest) -> tuple[Any, list[str], str] | HttpResponse:
    """The user, the topics asked for and the session digest (none with a token: logout
    does not end a token's streams), by token or by session; or the refusal."""
    topics = request.GET.getlist("topic")
    token = _token(request)
    if token is None:
        user = await request.auser()
        if session_key(request) is not None:
            await release_request_connections()  # the session and user lookups' connection
        if not user.is_authenticated and not conf.SSE_ALLOW_ANONYMOUS:
            raise PermissionDenied("Authentication required.")
        return user, topics, _session(request, user)
    try:
        user, named = await sync_to_async(read_token)(token)
    except InvalidToken as exc:
        return _unauthorized(exc.reason)
    finally:
        await release_request_connections()
    if outside := sorted(set(topics) - set(named)):
        raise PermissionDenied(f"The subscription token does not name: {', '.join(outside)}")
    return user, topics or named, ""


def _previous_streams(request: HttpRequest, user: Any) -> list[str] | None:
    """``?from_topic=``: the topics the cursor was issued for, when the page changed them
    (an empty ``from_topic=`` for none); the streams both sets share keep their place."""
    if "from_topic" not in request.GET:
        return None
    return streams_for(user, [t for t in request.GET.getlist("from_topic") if t])


def _owners(request: HttpRequest, user: Any) -> tuple[tuple[str, int], ...]:
    """The per-process caps this connection counts against."""
    owners = []
    if (per_address := conf.SSE_MAX_CONNECTIONS_PER_IP) is not None:
        owners.append((f"ip:{client_address(request)}", per_address))
    if user.is_authenticated:
        owners.append((f"user:{user.pk}", conf.SSE_MAX_CONNECTIONS_PER_USER))
    return tuple(owners)


def _session(request: HttpRequest, user: Any) -> str:
    key = session_key(request)
    return session_digest(key) if key and user.is_authenticated else ""


@csrf_exempt  # reads only: other methods get 405 and never reach any state
async def stream(request: HttpRequest) -> HttpResponseBase:
    """Serve the requesting user's streams plus the ``?topic=`` ones it may read."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "OPTIONS"])
    if not _accepts_stream(request):
        return HttpResponse("This endpoint serves text/event-stream.", status=406)
    who = await _who(request)
    if isinstance(who, HttpResponse):
        return _with_headers(request, who)
    user, topics, session = who
    try:
        streams = streams_for(user, topics)
        previous = _previous_streams(request, user)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    if denied := await denied_streams(user, streams):
        raise PermissionDenied(f"Not allowed: {', '.join(denied)}")
    if request.method == "HEAD":
        return _with_headers(request, HttpResponse(content_type=CONTENT_TYPE))
    connection = Connection(
        get_hub(),
        streams,
        _cursor(request),
        user=user,
        denied=denied_streams,
        owners=_owners(request, user),
        session=session,
        previous=previous,
    )
    response = StreamResponse(connection.events(), direct=connection.send_directly)
    return _with_headers(request, response)
