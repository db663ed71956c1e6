"""Ask the pooled handler, with and without its fast path, and compare the answers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.test import override_settings

from django_sse.asgi import PooledASGIHandler
from django_sse.testing import http_scope

STOCK_MIDDLEWARE = [  # startproject's
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes  # all of it, or a stream's first chunk
    messages: int  # http.response.body messages


def handlers() -> tuple[PooledASGIHandler, PooledASGIHandler]:
    """(fast, slow), for the settings in force."""
    with override_settings(SSE_FAST_PATH=True):
        fast = PooledASGIHandler()
    with override_settings(SSE_FAST_PATH=False):
        slow = PooledASGIHandler()
    assert fast.fast_path is not None and slow.fast_path is None
    return fast, slow


async def ask(
    handler: PooledASGIHandler,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    scheme: str = "http",
    path: str = "/events/",
    leave: bool = True,
) -> Answer:
    """One request; a stream is left after its first chunk (unless not ``leave``)."""
    fields = {"host": "testserver", "accept": "text/event-stream", **(headers or {})}
    scope = http_scope(path, (), [(k.encode(), v.encode()) for k, v in fields.items()])
    scope.update(method=method, scheme=scheme)
    sent: list[Mapping[str, Any]] = []
    body, gone = asyncio.Event(), asyncio.Event()
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            body.set()

    async with asyncio.timeout(5):
        task = asyncio.create_task(handler(scope, receive, send))
        await body.wait()
        if leave:
            gone.set()  # as a browser going away
        await task
    start, *rest = sent
    content = b"".join(m.get("body", b"") for m in rest)
    return Answer(start["status"], start["headers"], content, len(rest))


async def ask_both(**request: Any) -> Answer:
    """The same request of both paths: the answers must be equal; the fast one is returned."""
    fast, slow = handlers()
    answer = await ask(fast, **request)
    assert answer == await ask(slow, **request)
    assert fast.fast_path is not None and fast.fast_path.requests == 1
    return answer


def header(answer: Answer, name: str) -> str | None:
    values = [v.decode() for k, v in answer.headers if k.decode().lower() == name]
    return values[0] if values else None


def count_hops(handler: PooledASGIHandler) -> list[object]:
    """Every call the handler's threads are given (``sync_to_async`` hops)."""
    hops: list[object] = []
    for executor in handler.executors:
        submit = executor.submit

        def counting(fn: Any, *args: Any, _submit: Any = submit, **kwargs: Any) -> Any:
            hops.append(fn)
            return _submit(fn, *args, **kwargs)

        executor.submit = counting  # type: ignore[method-assign,assignment]
    return hops
