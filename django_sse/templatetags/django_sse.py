"""``{% sse_script %}`` and ``{% sse_url %}``: connect a page to the stream endpoint.

Both resume by default: the URL carries a cursor read while the page renders, so
the page gets every persistent event published after its content was read, even
those published before the script connects. Render the tag before reading the
state the page shows (a base template's ``<head>`` is rendered first), and let
the page skip what it already shows.

Both may be rendered from an async view (inline, without ``sync_to_async``): the
user and the cursor are then read on a database thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from django_sse.conf import conf
from django_sse.cursor import Cursor
from django_sse.delivery.db import run_db_now
from django_sse.models import read_heads
from django_sse.streams import streams_for
from django_sse.tokens import subscription_token

register = template.Library()

SCRIPT_PATH = "django_sse/django-sse.js"


def _flatten(values: Iterable[Any]) -> list[str]:
    """Topics given one by one, as lists, or both."""
    out: list[str] = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(str(v) for v in value)
        elif value not in (None, ""):  # e.g. a missing variable
            out.append(str(value))
    return out


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


def _may_connect(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) or conf.SSE_ALLOW_ANONYMOUS


def stream_url(
    user: Any, topics: list[str], *, url: str | None, resume: bool, token: object = False
) -> str:
    """The endpoint URL with ``?topic=`` parameters and, if ``resume``, a cursor; with
    ``token`` (True, or seconds) a subscription token of the user's instead of the session."""
    params = [("topic", topic) for topic in topics]
    if token is not False and getattr(user, "is_authenticated", False):
        max_age = None if token is True else float(token)  # type: ignore[arg-type]
        params.append(("token", subscription_token(user, topics, max_age=max_age)))
    if resume:
        streams = streams_for(user, topics)
        params.append(("last_event_id", Cursor(streams, read_heads(streams)).encode()))
    base = url or reverse("django_sse:stream")
    if not params:
        return base
    return base + ("&" if "?" in base else "?") + urlencode(params)


def script_tag(
    url: str, events: list[str], nonce: object = None, shared: bool = True
) -> SafeString:
    """The ``<script>`` element; every value is escaped into an attribute."""
    attrs: list[tuple[str, object]] = [("src", static(SCRIPT_PATH)), ("data-url", url)]
    if events:
        attrs.append(("data-events", json.dumps(events)))
    if not shared:
        attrs.append(("data-shared", "false"))
    if nonce is not None:
        attrs.append(("nonce", nonce))
    return format_html("<script {} defer></script>", format_html_join(" ", '{}="{}"', attrs))


def _nonce(context: template.Context) -> object:
    """Django's CSP nonce (the ``csp`` context processor), else django-csp's."""
    nonce = context.get("csp_nonce")
    if nonce is None:
        nonce = getattr(context.get("request"), "csp_nonce", None)
    return nonce


@register.simple_tag(takes_context=True)
def sse_script(
    context: template.Context,
    *topics: Any,
    events: str | list[str] | tuple[str, ...] = (),
    url: str | None = None,
    resume: bool = True,
    token: object = False,
    shared: bool = True,
) -> SafeString:
    """``<script>`` for django-sse.js, connected to the user's streams and ``topics``.

    ``events``: names (space-separated or a list) to re-dispatch as ``sse:<name>``
    DOM events; ``url``: another endpoint URL; ``resume=False``: no cursor (for
    pages served from a shared cache); ``token=True`` (or seconds): a subscription
    token in the URL, for an endpoint on another origin; ``shared=False``: a stream
    of its own in each tab, instead of one for all the tabs of the page. Renders
    nothing for an anonymous user when ``SSE_ALLOW_ANONYMOUS`` is off, as the endpoint
    would refuse it.
    """
    names = events.split() if isinstance(events, str) else list(events)
    return run_db_now(_script, context, _flatten(topics), names, url, resume, token, shared)


def _script(
    context: template.Context,
    topics: list[str],
    names: list[str],
    url: str | None,
    resume: bool,
    token: object,
    shared: bool,
) -> SafeString:
    user = _user(context)  # may load the user: off the event loop's thread, like the cursor
    if not _may_connect(user):
        return SafeString("")
    src = stream_url(user, topics, url=url, resume=resume, token=token)
    return script_tag(src, names, _nonce(context), shared=bool(shared))


@register.simple_tag(takes_context=True)
def sse_url(
    context: template.Context,
    *topics: Any,
    url: str | None = None,
    resume: bool = True,
    token: object = False,
) -> str:
    """The stream URL with ``topics`` and a cursor, e.g. for htmx's ``sse-connect``."""
    return run_db_now(_url, context, _flatten(topics), url, resume, token)


def _url(
    context: template.Context, topics: list[str], url: str | None, resume: bool, token: object
) -> str:
    return stream_url(_user(context), topics, url=url, resume=resume, token=token)
