"""``{% sse_script %}`` and ``{% sse_url %}``: exact HTML, cursors, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.utils.functional import SimpleLazyObject

from django_sse.models import Stream

pytestmark = pytest.mark.django_db

SRC = "/static/django_sse/django-sse.js"
# Cursor tags (django_sse.cursor.stream_tag) of the stream sets used below.
BROADCAST_TAG = "KQcHsN"  # broadcast
USER_TAG = "OqpgaR"  # broadcast, user:42
TOPICS_TAG = "H2OPSO"  # broadcast, topic:chat, topic:orders
USER_ORDERS_TAG = "x8OQHn"  # broadcast, topic:orders, user:42


@pytest.fixture(autouse=True)
def static_url() -> Iterator[None]:
    with override_settings(STATIC_URL="/static/"):
        yield


def render(source: str, user: Any = None, **context: Any) -> str:
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    for name, value in context.pop("request_attrs", {}).items():
        setattr(request, name, value)
    return Template("{% load django_sse %}" + source).render(
        Context({"request": request, **context})
    )


def ada() -> User:
    return User(pk=42, username="ada")


def test_default_connects_anonymous_user_to_broadcast_from_now() -> None:
    assert render("{% sse_script %}") == (
        f'<script src="{SRC}" data-url="/events/?last_event_id={BROADCAST_TAG}.0" defer></script>'
    )


def test_cursor_holds_the_heads_of_the_users_streams_at_render() -> None:
    Stream.objects.create(name="broadcast", seq=3)
    Stream.objects.create(name="user:42", seq=36)
    assert render("{% sse_script %}", ada()) == (
        f'<script src="{SRC}" data-url="/events/?last_event_id={USER_TAG}.3.10" defer></script>'
    )


def test_nonce_from_the_csp_context_processor() -> None:
    assert render("{% sse_script resume=False %}", csp_nonce="n0nce") == (
        f'<script src="{SRC}" data-url="/events/" nonce="n0nce" defer></script>'
    )


def test_nonce_from_django_csp_on_the_request() -> None:
    html = render("{% sse_script resume=False %}", request_attrs={"csp_nonce": "fr0m-req"})
    assert html == f'<script src="{SRC}" data-url="/events/" nonce="fr0m-req" defer></script>'


def test_lazy_nonce_not_yet_generated_is_still_rendered() -> None:
    csp = pytest.importorskip("django.utils.csp")  # Django >= 6.0
    nonce = csp.LazyNonce()
    html = render("{% sse_script resume=False %}", csp_nonce=nonce)
    assert html == f'<script src="{SRC}" data-url="/events/" nonce="{nonce}" defer></script>'


def test_topics_one_by_one_or_as_a_list() -> None:
    expected = (
        f'<script src="{SRC}" data-url="/events/?topic=orders&amp;topic=chat'
        f'&amp;last_event_id={TOPICS_TAG}.0.0.0" defer></script>'
    )
    assert render('{% sse_script "orders" "chat" %}') == expected
    assert render("{% sse_script topics %}", topics=["orders", "chat"]) == expected


def test_events_to_redispatch_as_a_json_list() -> None:
    html = render('{% sse_script events="notification feed" resume=False %}')
    assert html == (
        f'<script src="{SRC}" data-url="/events/" '
        'data-events="[&quot;notification&quot;, &quot;feed&quot;]" defer></script>'
    )


def test_url_override_keeps_its_query() -> None:
    html = render('{% sse_script "orders" url="https://sse.example/s/?v=2" %}', ada())
    assert html == (
        f'<script src="{SRC}" data-url="https://sse.example/s/?v=2&amp;topic=orders'
        f'&amp;last_event_id={USER_ORDERS_TAG}.0.0.0" defer></script>'
    )


def test_hostile_values_are_escaped() -> None:
    html = render(
        "{% sse_script url=url events=events resume=False %}",
        url='/e/?x="><script>alert(1)</script>',
        events=["</script><b>"],
        csp_nonce='"onload="alert(2)',
    )
    assert html == (
        f'<script src="{SRC}" '
        'data-url="/e/?x=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" '
        'data-events="[&quot;&lt;/script&gt;&lt;b&gt;&quot;]" '
        'nonce="&quot;onload=&quot;alert(2)" defer></script>'
    )


def test_invalid_topic_fails_loudly() -> None:
    with pytest.raises(ValueError, match="invalid topic name '<x>'"):
        render("{% sse_script '<x>' %}")


@override_settings(SSE_ALLOW_ANONYMOUS=False)
def test_nothing_for_anonymous_user_when_the_endpoint_would_refuse() -> None:
    assert render("{% sse_script %}") == ""
    assert render("{% sse_script resume=False %}", ada()) == (
        f'<script src="{SRC}" data-url="/events/" defer></script>'
    )


def test_sse_url_is_escaped_by_the_template() -> None:
    Stream.objects.create(name="topic:orders", seq=5)
    assert render("{% sse_url 'orders' %}", ada()) == (
        f"/events/?topic=orders&amp;last_event_id={USER_ORDERS_TAG}.0.5.0"
    )
    assert render("{% sse_url resume=False %}") == "/events/"


def test_missing_topic_variable_adds_no_topic() -> None:
    assert render("{% sse_script missing resume=False %}") == (
        f'<script src="{SRC}" data-url="/events/" defer></script>'
    )


@pytest.mark.django_db(transaction=True)
async def test_renders_inline_in_an_async_view_with_a_lazy_user_and_a_cursor() -> None:
    """Django's ORM refuses an event loop's thread: the tag reads the user and the
    heads on a database thread instead of raising SynchronousOnlyOperation."""
    await Stream.objects.acreate(name="user:42", seq=36)
    await User.objects.acreate(pk=42, username="ada")
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: User.objects.get(pk=42))  # type: ignore[assignment]
    source = "{% load django_sse %}{% sse_script %} {% sse_url 'orders' %}"
    html = Template(source).render(Context({"request": request}))
    assert html == (
        f'<script src="{SRC}" data-url="/events/?last_event_id={USER_TAG}.0.10" defer></script>'
        f" /events/?topic=orders&amp;last_event_id={USER_ORDERS_TAG}.0.0.10"
    )
