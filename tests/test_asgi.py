"""The pooled ASGI handler: sync work shares a few threads; stuck clients are closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from django.test import override_settings

from django_sse.asgi import PooledASGIHandler, get_asgi_application
from django_sse.testing import http_scope


def scope(path: str) -> dict[str, Any]:
    return http_scope(path, (), [(b"host", b"testserver")])


async def request(handler: PooledASGIHandler, path: str) -> bytes:
    sent: list[dict[str, Any]] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await never.wait()  # the client stays connected; Django cancels this when done
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(dict(message))

    await handler(scope(path), receive, send)
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@override_settings(SSE_HANDLER_THREADS=3)
async def test_sync_views_share_the_pool_threads() -> None:
    handler = get_asgi_application()
    names = await asyncio.gather(*[request(handler, "/thread/") for _ in range(30)])
    assert {n.decode() for n in names} == {"django-sse-0_0", "django-sse-1_0", "django-sse-2_0"}


async def test_non_http_scopes_are_refused() -> None:
    handler = PooledASGIHandler()
    with pytest.raises(ValueError, match="only handle ASGI/HTTP connections, not websocket"):
        await handler({"type": "websocket"}, request, request)  # type: ignore[arg-type]


@override_settings(SSE_SEND_TIMEOUT=0.05)
@pytest.mark.django_db(transaction=True)
async def test_a_client_that_stops_reading_is_closed(caplog: pytest.LogCaptureFixture) -> None:
    handler = PooledASGIHandler()
    never = asyncio.Event()
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await never.wait()
        return {"type": "http.disconnect"}

    async def stuck_send(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await never.wait()  # the socket buffer is full and stays full

    with caplog.at_level(logging.WARNING, "django_sse.asgi"):
        async with asyncio.timeout(10):
            await handler(scope("/events/"), receive, stuck_send)
    assert caplog.messages == ["closed /events/: the client stopped reading"]
