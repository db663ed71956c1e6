"""The pooled handler's fast path: taken for the endpoint, and it answers as Django's does.

Each answer is asked of two handlers, one with ``SSE_FAST_PATH`` and one without, and
must come back the same, byte for byte; real servers take the fast path through the
whole end-to-end suite (tests/server uses a stock project's middleware).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.checks import Info, run_checks
from django.core.signals import request_finished, request_started
from django.http import HttpRequest, HttpResponseBase
from django.test import AsyncClient, override_settings
from django.utils.deprecation import MiddlewareMixin

import django_sse
from django_sse.asgi import PooledASGIHandler
from django_sse.fastpath_checks import check_fast_path
from django_sse.hub import get_hub
from django_sse.publish import aclose_user_streams
from django_sse.testing import http_scope, open_stream
from tests.hubkit import eventually

pytestmark = pytest.mark.django_db(transaction=True)  # the endpoint reads on worker threads

STOCK_MIDDLEWARE = [  # startproject's
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
MARKER = "tests.test_fastpath.Marker"


class Marker(MiddlewareMixin):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        response["X-Marker"] = "seen"
        return response


class TouchSession(MiddlewareMixin):
    def process_request(self, request: HttpRequest) -> None:
        request.session["touched"] = True  # the session middleware then saves it


def plain_middleware(get_response: Any) -> Any:
    return get_response


def broken_authorize(user: object, stream: str) -> bool:
    raise RuntimeError("the authorizer failed")


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes  # all of it, or a stream's first chunk


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
    return Answer(start["status"], start["headers"], b"".join(m.get("body", b"") for m in rest))


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


# Taken, or not ------------------------------------------------------------------


async def test_an_anonymous_stream_opens_with_one_thread_hop_instead_of_six() -> None:
    fast, slow = handlers()
    counted = []
    for handler in (fast, slow):
        hops = count_hops(handler)
        async with open_stream(application=handler) as stream:
            counted.append(len(hops))  # request_started (and 5 middleware hooks)
        counted.append(len(hops))  # + request_finished
        assert stream.retry == 3000
    assert counted == [1, 2, 6, 7]
    assert fast.fast_path is not None and fast.fast_path.requests == 1


async def test_other_paths_take_djangos_path() -> None:
    fast, _ = handlers()
    assert fast.fast_path is not None
    answer = await ask(fast, path="/thread/")
    assert (answer.status, answer.body) == (200, b"django-sse-0_0")
    assert fast.fast_path.requests == 0


@pytest.mark.parametrize(
    ("middleware", "vouched", "taken"),
    [
        ([MARKER], [], False),
        ([MARKER], [MARKER], True),
        (["tests.test_fastpath.plain_middleware"], ["tests.test_fastpath.plain_middleware"], False),
    ],
)
async def test_other_middleware_need_a_vouch_and_mixin_hooks(
    settings: Any, middleware: list[str], vouched: list[str], taken: bool
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, *middleware]
    settings.SSE_FAST_PATH_MIDDLEWARE = vouched
    handler = PooledASGIHandler()
    answer = await ask(handler)
    assert (handler.fast_path is not None) == taken
    assert answer.status == 200 and answer.body.startswith(b"retry: 3000\n\n")
    if middleware == [MARKER]:
        assert header(answer, "x-marker") == "seen"


def test_the_check_says_why_the_fast_path_is_not_taken(settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MARKER]
    assert check_fast_path(None) == [
        Info(
            f"The event stream endpoint takes Django's full request path: {MARKER} is not "
            "known to do no I/O.",
            hint="If that middleware does no I/O on the endpoint, add its path to "
            "SSE_FAST_PATH_MIDDLEWARE; set SSE_FAST_PATH = False to silence this.",
            id="django_sse.I001",
        )
    ]
    assert "django_sse.I001" in [m.id for m in run_checks(tags=["django_sse"])]
    settings.SSE_FAST_PATH_MIDDLEWARE = [MARKER]
    assert check_fast_path(None) == []
    settings.SSE_FAST_PATH_MIDDLEWARE = []
    settings.SSE_FAST_PATH = False
    assert check_fast_path(None) == []


# The same answers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"method": "HEAD"},
        {"method": "OPTIONS", "headers": {"origin": "https://app.example.com"}},
        {"method": "POST"},
        {"headers": {"accept": "application/json"}},
    ],
    ids=["stream", "head", "options", "post", "json"],
)
async def test_the_endpoints_answers_are_the_same(settings: Any, request_: Any) -> None:
    settings.SSE_CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    answer = await ask_both(**request_)
    assert answer.status in (200, 204, 405, 406)


async def test_security_headers_over_https(settings: Any) -> None:
    settings.MIDDLEWARE = STOCK_MIDDLEWARE
    settings.SECURE_HSTS_SECONDS = 3600
    answer = await ask_both(scheme="https")
    assert (answer.status, header(answer, "content-type")) == (200, "text/event-stream")
    assert header(answer, "strict-transport-security") == "max-age=3600"
    assert header(answer, "x-content-type-options") == "nosniff"
    assert header(answer, "referrer-policy") == "same-origin"
    assert header(answer, "x-frame-options") == "DENY"


async def test_ssl_redirect_and_refused_user_agents(settings: Any) -> None:
    settings.MIDDLEWARE = STOCK_MIDDLEWARE
    settings.SECURE_SSL_REDIRECT = True
    redirect = await ask_both()
    assert (redirect.status, header(redirect, "location")) == (301, "https://testserver/events/")
    settings.SECURE_SSL_REDIRECT = False
    settings.DISALLOWED_USER_AGENTS = [re.compile("crawler")]
    assert (await ask_both(headers={"user-agent": "a crawler"})).status == 403


async def test_anonymous_refused_when_not_allowed(settings: Any) -> None:
    settings.SSE_ALLOW_ANONYMOUS = False
    answer = await ask_both()
    assert (answer.status, answer.body) == (403, b"Authentication required.")


async def test_a_failing_view_answers_500_and_is_logged(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SSE_AUTHORIZE = "tests.test_fastpath.broken_authorize"
    with caplog.at_level(logging.ERROR, "django.request"):
        answer = await ask_both()
    assert answer.status == 500
    errors = [r for r in caplog.records if r.getMessage() == "Internal Server Error: /events/"]
    assert len(errors) == 2 and all(r.exc_info for r in errors)


async def test_a_session_written_by_a_middleware_is_saved_on_a_thread(settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_fastpath.TouchSession"]
    settings.SSE_FAST_PATH_MIDDLEWARE = ["tests.test_fastpath.TouchSession"]
    fast, slow = handlers()
    for handler in (fast, slow):
        cookie = header(await ask(handler), "set-cookie")
        assert cookie is not None and cookie.startswith("sessionid=")


async def test_a_body_a_middleware_wraps_is_sent_djangos_way(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    settings.SSE_FAST_PATH_MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware"]
    fast, _ = handlers()
    answer = await ask(fast, headers={"accept-encoding": "gzip"})
    assert (answer.status, header(answer, "content-encoding")) == (200, "gzip")
    assert answer.body.startswith(b"\x1f\x8b")  # gzip's magic
    assert fast.fast_path is not None and fast.fast_path.requests == 1


# Users, signals, cleanup --------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["fast", "django"])
def handler(request: pytest.FixtureRequest) -> Iterator[PooledASGIHandler]:
    with override_settings(SSE_FAST_PATH=request.param):
        handler = PooledASGIHandler()
    assert (handler.fast_path is not None) == request.param
    yield handler
    for executor in handler.executors:
        executor.shutdown(wait=False)


async def test_a_logged_in_user_gets_its_stream(handler: PooledASGIHandler) -> None:
    alice = await User.objects.acreate(username="alice")
    async with open_stream(user=alice, application=handler) as stream:
        await django_sse.asend_to_user(alice, "for alice")
        (event,) = await stream.read(1)
    assert event.data == "for alice"


async def test_logout_closes_that_sessions_stream(handler: PooledASGIHandler) -> None:
    alice = await User.objects.acreate(username="alice")
    client = AsyncClient()
    await client.aforce_login(alice)
    session = client.cookies["sessionid"].value
    cookie = {"cookie": f"sessionid={session}"}
    task = asyncio.create_task(ask(handler, headers=cookie, leave=False))
    await eventually(lambda: get_hub().stats()["subscriptions"] == 1)
    await aclose_user_streams(alice, session)
    answer = await asyncio.wait_for(task, 5)  # ended by the server, not the client
    assert answer.status == 200
    await eventually(lambda: get_hub().stats()["subscriptions"] == 0)


async def test_signals_once_each_and_the_hub_freed(handler: PooledASGIHandler) -> None:
    sent: list[str] = []

    def started(sender: Any, **kwargs: Any) -> None:
        sent.append("started")

    def finished(sender: Any, **kwargs: Any) -> None:
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        async with open_stream(application=handler):
            assert get_hub().stats()["subscriptions"] == 1
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    assert sent == ["started", "finished"]
    await eventually(lambda: get_hub().stats()["subscriptions"] == 0)
