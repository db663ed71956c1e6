"""The stream endpoint: ``GET`` answers ``text/event-stream`` for a user's streams."""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.views.decorators.csrf import csrf_exempt

from django_sse.auth import denied_streams
from django_sse.conf import conf
from django_sse.connection import Connection
from django_sse.db import release_request_connections
from django_sse.hub import get_hub
from django_sse.streams import streams_for

CONTENT_TYPE = "text/event-stream"


def _stream_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _cursor(request: HttpRequest) -> str | None:
    # The header (sent by the browser on reconnect) wins over the query string.
    return request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or None


@csrf_exempt  # GET-only: any other method gets 405, never reaches state
async def stream(request: HttpRequest) -> HttpResponseBase:
    """Serve the requesting user's streams plus the ``?topic=`` ones it may read."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    user = await request.auser()
    await release_request_connections()
    if not user.is_authenticated and not conf.SSE_ALLOW_ANONYMOUS:
        return HttpResponseForbidden("Authentication required.")
    try:
        streams = streams_for(user, request.GET.getlist("topic"))
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    if denied := await denied_streams(user, streams):
        return HttpResponseForbidden(f"Not allowed: {', '.join(denied)}")
    if request.method == "HEAD":
        return _stream_headers(HttpResponse(content_type=CONTENT_TYPE))
    connection = Connection(get_hub(), streams, _cursor(request))
    response = StreamingHttpResponse(connection.events(), content_type=CONTENT_TYPE)
    return _stream_headers(response)
