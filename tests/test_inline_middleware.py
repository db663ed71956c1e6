"""Middleware on the fast path: Django's stock ones inline, others vouched for or not at all.

Each answer is asked of a handler with ``SSE_FAST_PATH`` and of one without, and must
come back the same, byte for byte (``tests.asgikit.ask_both``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.core.checks import Info, run_checks
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

from django_sse.asgi import PooledASGIHandler
from django_sse.server.checks import check_fast_path
from tests.asgikit import STOCK_MIDDLEWARE, ask, ask_both, handlers, header

pytestmark = pytest.mark.django_db(transaction=True)  # the endpoint reads on worker threads

MARKER = "tests.test_inline_middleware.Marker"
PLAIN = "tests.test_inline_middleware.plain_middleware"


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


@pytest.mark.parametrize(
    ("middleware", "vouched", "taken"),
    [
        ([MARKER], [], False),
        ([MARKER], [MARKER], True),
        ([PLAIN], [PLAIN], False),
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


async def test_a_failing_view_answers_500_and_is_logged(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SSE_AUTHORIZE = "tests.test_inline_middleware.broken_authorize"
    with caplog.at_level(logging.ERROR, "django.request"):
        answer = await ask_both()
    assert answer.status == 500
    errors = [r for r in caplog.records if r.getMessage() == "Internal Server Error: /events/"]
    assert len(errors) == 2 and all(r.exc_info for r in errors)


async def test_a_session_written_by_a_middleware_is_saved_on_a_thread(settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_inline_middleware.TouchSession"]
    settings.SSE_FAST_PATH_MIDDLEWARE = ["tests.test_inline_middleware.TouchSession"]
    fast, slow = handlers()
    for handler in (fast, slow):
        cookie = header(await ask(handler), "set-cookie")
        assert cookie is not None and cookie.startswith("sessionid=")
