"""Test-only views for the browser tests: a page with ``{% sse_script %}``, the
static files it loads, a stream endpoint that refuses on demand, a POST stream.

Mounted under ``/test/browser/`` by ``tests/server/urls.py``. The setting
``TEST_STREAM_REFUSALS`` (a server override) is how many requests the gated
stream refuses after the server starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import path
from django.views.static import serve

import django_sse
from django_sse.views import stream

STATIC_ROOT = Path(django_sse.__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>django-sse test page</title>
{% load django_sse %}{% sse_script topics events=events url=url shared=shared %}
</head><body><p>django-sse test page</p></body></html>"""

_refusals = {"left": getattr(settings, "TEST_STREAM_REFUSALS", 0)}
_posts = {"open": 0}  # POST streams still running


def page(request: HttpRequest) -> HttpResponse:
    """``?topic=``, ``?event=``, ``?url=`` and ``?shared=0`` become the tag's arguments."""
    get_token(request)  # sets the csrftoken cookie that djangoSSE.post() sends back
    context = {
        "topics": request.GET.getlist("topic"),
        "events": request.GET.getlist("event"),
        "url": request.GET.get("url"),
        "shared": request.GET.get("shared") != "0",
    }
    return HttpResponse(engines["django"].from_string(PAGE).render(context, request))


def static_file(request: HttpRequest, path: str) -> HttpResponseBase:
    return serve(request, path, document_root=str(STATIC_ROOT))


async def gated_stream(request: HttpRequest) -> HttpResponseBase:
    """The stream endpoint, or a 503, on which a browser's EventSource gives up."""
    if _refusals["left"] > 0:
        _refusals["left"] -= 1
        return HttpResponse("refused for a test", status=503)
    return await stream(request)


async def post_stream(request: HttpRequest) -> StreamingHttpResponse:
    """Events cut at awkward places, echoing the body; ``?hang`` never ends."""
    body = request.body

    async def chunks() -> AsyncIterator[bytes]:
        _posts["open"] += 1
        try:
            yield b"retry: 50\r\n: hi\r\n\r\nda"
            yield b"ta: one\r"
            yield b"\nid: 1\n\nevent: echo\ndata: " + body + b"\n\n"
            if "hang" in request.GET:
                await asyncio.Event().wait()  # until the client goes away
            # The id of a block the stream never ends is not the client's to keep.
            yield b'id: 2\nevent: done\ndata: {"ok": true}\n\nid: 3\ndata: unfinished'
        finally:
            _posts["open"] -= 1

    return StreamingHttpResponse(chunks(), content_type="text/event-stream")


async def dropped_stream(request: HttpRequest) -> StreamingHttpResponse:
    """What a stream sends after an overflow that lost ephemeral events, then ends."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"retry: 60000\n\n: connected\n\nid: x.0\n\n"
        yield b'event: sse:dropped\ndata: {"dropped": 2}\n\nid: x.1\ndata: "replayed"\n\n'
        await asyncio.Event().wait()  # until the client goes away

    return StreamingHttpResponse(chunks(), content_type="text/event-stream")


async def open_posts(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_posts)


urlpatterns = [
    path("page/", page),
    path("static/<path:path>", static_file),
    path("events/", gated_stream),
    path("post/", post_stream),
    path("post/open/", open_posts),
    path("dropped/", dropped_stream),
]
