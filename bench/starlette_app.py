"""sse-starlette's target: a Starlette app with an in-memory broadcast, on uvicorn.

The idiomatic setup: every stream puts its ``asyncio.Queue`` in a process-wide
set; a publish JSON-encodes the data once and puts it in every queue; the
stream's generator yields ``{"event", "data"}`` dicts that ``EventSourceResponse``
encodes per connection, with its own 15 s pings. No log, no recovery.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse  # type: ignore[import-not-found,unused-ignore]
from starlette.applications import Starlette  # type: ignore[import-not-found,unused-ignore]
from starlette.requests import Request  # type: ignore[import-not-found,unused-ignore]
from starlette.responses import JSONResponse, Response  # type: ignore[import-not-found,unused-ignore]
from starlette.routing import Route  # type: ignore[import-not-found,unused-ignore]

from bench.payload import EVENT, PublishRequest

QUEUES: set[asyncio.Queue[str]] = set()


async def _stream(queue: asyncio.Queue[str]) -> AsyncIterator[dict[str, Any]]:
    QUEUES.add(queue)
    try:
        yield {"retry": 3000, "comment": "connected"}
        while True:
            yield {"event": EVENT, "data": await queue.get()}
    finally:
        QUEUES.discard(queue)


async def events(request: Request) -> Response:
    return EventSourceResponse(_stream(asyncio.Queue()))


async def publish(request: Request) -> Response:
    try:
        ask = PublishRequest.parse(await request.body())
    except ValueError as exc:
        return Response(str(exc), status_code=400)
    for k in range(ask.count):
        data = json.dumps(ask.payload(k))
        for queue in QUEUES:
            queue.put_nowait(data)
        await asyncio.sleep(0)  # let the streams run between events, as an await would
    return JSONResponse({"published": ask.count})


app = Starlette(
    routes=[
        Route("/events/", events),
        Route("/bench/publish/", publish, methods=["POST"]),
    ]
)
