"""The framework's own naive use: an async view, an ``asyncio.Queue`` per connection.

What a Django developer writes without a library: every open stream puts its
queue in a process-wide set; a publish encodes the event once and puts the bytes
in every queue; the view's generator yields them, with a heartbeat comment when
idle. No log, no recovery, unbounded queues. Served by ``bench.asgi`` (django-sse's
pooled handler) so it holds no thread per stream either.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.memory_views import memory
from bench.payload import EVENT, PublishRequest

HEARTBEAT = 15.0  # seconds
QUEUES: set[asyncio.Queue[bytes]] = set()


async def _stream(queue: asyncio.Queue[bytes]) -> AsyncIterator[bytes]:
    QUEUES.add(queue)
    try:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            try:
                yield await asyncio.wait_for(queue.get(), HEARTBEAT)
            except TimeoutError:
                yield b":\n\n"
    finally:
        QUEUES.discard(queue)


async def events(request: HttpRequest) -> HttpResponseBase:
    response = StreamingHttpResponse(_stream(asyncio.Queue()), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt
async def publish(request: HttpRequest) -> HttpResponse:
    try:
        ask = PublishRequest.parse(request.body)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    for k in range(ask.count):
        frame = f"event: {EVENT}\ndata: {json.dumps(ask.payload(k))}\n\n".encode()
        for queue in QUEUES:
            queue.put_nowait(frame)
        await asyncio.sleep(0)  # let the streams run between events, as an await would
    return JsonResponse({"published": ask.count})


urlpatterns = [
    path("events/", events),
    path("bench/publish/", publish),
    path("bench/memory/", memory),
]
