"""The client address behind proxies, and the check for a cap that counts a proxy."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.test import RequestFactory, override_settings

from django_sse import proxies
from django_sse.checks import CHECKS
from django_sse.views import _owners
from tests.conftest import ServerFactory
from tests.services import Backend
from tests.test_nginx import open_from

PROXY = "10.0.0.5"


def request(remote: str, forwarded: str | None = None) -> HttpRequest:
    made = RequestFactory().get("/events/", REMOTE_ADDR=remote)
    if forwarded is not None:
        made.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return made


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxies, "_warned", False)


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("203.0.113.7", None, "203.0.113.7"),  # no proxy
        (PROXY, "203.0.113.7", "203.0.113.7"),  # through our proxy
        (PROXY, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the client set a header itself
        (PROXY, "203.0.113.7, 10.0.0.6", "203.0.113.7"),  # two of our proxies
        (PROXY, "10.0.0.6, 10.0.0.7", "10.0.0.6"),  # only our proxies: the first of them
        (PROXY, "not-an-address", PROXY),  # garbage: the proxy is all we know
        (PROXY, "", PROXY),
        ("2001:db8::1", None, "2001:db8::1"),
        (PROXY, " 2001:db8::2 ", "2001:db8::2"),
        ("198.51.100.9", "203.0.113.7", "198.51.100.9"),  # not our proxy: its header is a lie
    ],
)
@override_settings(SSE_TRUSTED_PROXIES=["10.0.0.0/24"])
def test_the_client_is_the_last_address_our_proxies_did_not_write(
    remote: str, forwarded: str | None, client: str
) -> None:
    assert proxies.client_address(request(remote, forwarded)) == client


def test_with_no_trusted_proxies_the_header_is_never_believed() -> None:
    assert proxies.client_address(request(PROXY, "203.0.113.7")) == PROXY


def test_the_cap_is_off_by_default_so_nobody_is_counted_by_address() -> None:
    assert _owners(request(PROXY), AnonymousUser()) == ()


@override_settings(SSE_MAX_CONNECTIONS_PER_IP=3, SSE_TRUSTED_PROXIES=[PROXY])
def test_a_cap_counts_the_forwarded_client() -> None:
    assert _owners(request(PROXY, "203.0.113.7"), AnonymousUser()) == (("ip:203.0.113.7", 3),)


@override_settings(SSE_MAX_CONNECTIONS_PER_IP=3)
def test_a_cap_behind_an_untrusted_proxy_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "django_sse.proxies"):
        for _ in range(3):
            assert _owners(request(PROXY, "203.0.113.7"), AnonymousUser()) == ((f"ip:{PROXY}", 3),)
    assert len(caplog.records) == 1
    assert "SSE_TRUSTED_PROXIES" in caplog.records[0].getMessage()


def test_no_log_without_a_cap(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "django_sse.proxies"):
        proxies.client_address(request(PROXY, "203.0.113.7"))
    assert caplog.records == []


@pytest.mark.parametrize(
    ("overrides", "warned"),
    [
        ({"SSE_MAX_CONNECTIONS_PER_IP": 200, "SECURE_PROXY_SSL_HEADER": ("HTTP_X_F", "https")}, 1),
        ({"SSE_MAX_CONNECTIONS_PER_IP": 200, "USE_X_FORWARDED_HOST": True}, 1),
        ({"SSE_MAX_CONNECTIONS_PER_IP": 200}, 0),  # no sign of a proxy
        ({"USE_X_FORWARDED_HOST": True}, 0),  # no cap
        (
            {
                "SSE_MAX_CONNECTIONS_PER_IP": 200,
                "USE_X_FORWARDED_HOST": True,
                "SSE_TRUSTED_PROXIES": [PROXY],
            },
            0,
        ),
    ],
)
def test_w005_flags_a_cap_that_would_count_the_proxy(
    overrides: dict[str, object], warned: int
) -> None:
    with override_settings(**overrides):
        messages = proxies.check_proxies(None)
    assert [m.id for m in messages] == ["django_sse.W005"] * warned
    if warned:
        assert "SSE_TRUSTED_PROXIES" in str(messages[0].hint)
    assert proxies.check_proxies in CHECKS


@pytest.mark.e2e
async def test_by_default_many_streams_from_one_address_are_all_served(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    """Everyone behind one NAT or proxy: 260 streams from one address, none refused."""
    server = start_server(sqlite_backend)
    writers = []
    try:
        answers = []
        for _ in range(260):
            writer, first = await open_from("127.0.0.1", server.port)
            writers.append(writer)
            answers.append(first)
    finally:
        for writer in writers:
            writer.close()
    assert sum(b": connected" in a for a in answers) == 260
