"""The admin's live page: every live server process with its open streams and counters,
the streams most followed, the last resets and overflows; this process alone without
presence; what it refuses. Then two real daphne processes: a reset on one shows on the
other's page, and a process killed with SIGKILL leaves it within the TTL."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import timedelta

import httpx
import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings
from django.utils import timezone

from django_sse.delivery.live import Incidents
from django_sse.models import Presence, PresenceProcess
from tests.conftest import ServerFactory
from tests.services import Backend
from tests.sse_client import Client as SSEClient

PAGE = "/admin/django_sse/presenceprocess/"
TTL = 2.0


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    return client


def stats(open_streams: int, **counters: int) -> dict[str, object]:
    incidents = Incidents()
    incidents.note("reset", "expired cursor", "7", ["broadcast", "user:7"])
    return {
        "open": open_streams,
        "streams": 2,
        "counters": counters,
        "incidents": incidents.recent(),
    }


@override_settings(SSE_PRESENCE_TTL=30)
def test_the_page_shows_the_live_processes_their_streams_and_resets(admin_client: Client) -> None:
    now = timezone.now()
    alive = {"expires": now + timedelta(seconds=30), "renewed": now}
    PresenceProcess.objects.create(name="web1:10", stats=stats(3, connects=9), **alive)
    PresenceProcess.objects.create(name="web2:20", stats=stats(2, overflows=4), **alive)
    PresenceProcess.objects.create(name="dead:30", expires=now - timedelta(seconds=1))
    for connection, stream, user, process in [
        ("c1", "broadcast", "7", "web1:10"),
        ("c2", "broadcast", "8", "web2:20"),
        ("c2", "topic:news", "8", "web2:20"),
        ("c3", "broadcast", "", "dead:30"),
    ]:
        Presence.objects.create(connection=connection, stream=stream, user_pk=user, process=process)
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    assert [p["name"] for p in page.context["processes"]] == ["web1:10", "web2:20"]
    assert page.context["open"] == 5
    assert page.context["streams"] == [
        {"stream": "broadcast", "connections": 2, "users": 2},
        {"stream": "topic:news", "connections": 1, "users": 1},
    ]
    incidents = page.context["incidents"]  # newest first, from every live process
    assert sorted((i["kind"], i["process"]) for i in incidents) == [
        ("reset", "web1:10"),
        ("reset", "web2:20"),
    ]
    assert incidents[0]["at"] >= incidents[1]["at"]
    text = page.content.decode()
    assert "dead:30" not in text
    assert "reset: expired cursor" in text and "broadcast, user:7" in text
    assert 'http-equiv="refresh" content="10"' in text


def test_without_presence_it_shows_this_process_alone(admin_client: Client) -> None:
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    assert page.context["fleet"] is False
    assert b"This process only" in page.content and b"SSE_PRESENCE_TTL" in page.content


def test_an_incident_names_at_most_five_streams() -> None:
    incidents = Incidents()
    incidents.note("overflow", "", "", [f"topic:t{i}" for i in range(8)])
    (only,) = incidents.recent()
    assert only["streams"] == "topic:t0, topic:t1, topic:t2, topic:t3, topic:t4 (+3)"


@pytest.mark.django_db
def test_the_page_refuses_who_may_not_view_it_and_cannot_be_edited(
    admin_client: Client,
) -> None:
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    staff = User.objects.create_user("staff", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(PAGE).status_code == 403  # staff without the view permission
    staff.user_permissions.add(Permission.objects.get(codename="view_presenceprocess"))
    assert client.get(PAGE).status_code == 200
    assert admin_client.get(PAGE + "add/").status_code == 403
    assert admin_client.post(PAGE + "add/", {"name": "x"}).status_code == 403


async def live(url: str, cookies: httpx.Cookies) -> str:
    async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=10) as http:
        page = await http.get(PAGE)
        assert page.status_code == 200
        return page.text


@pytest.mark.e2e
async def test_one_process_page_shows_the_other_and_forgets_it_when_killed(
    sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    settings = {"SSE_PRESENCE_TTL": TTL, "SSE_HEARTBEAT_INTERVAL": 0.3}
    one, two = start_server(sqlite_backend, **settings), start_server(sqlite_backend, **settings)
    async with SSEClient(one.url) as reader, SSEClient(two.url) as root:
        await reader.login("live-reader")
        await root.login("root-live")
        async with reader.stream(last_event_id="not-a-cursor") as stream:
            (reset,) = await stream.events(1)
            assert reset.event == "sse:reset"
            started = time.monotonic()
            while "reset: invalid cursor" not in (text := await live(two.url, root.http.cookies)):
                assert time.monotonic() - started < 2 * TTL, text
                await asyncio.sleep(0.2)
            assert text.count("<tr><td>") >= 3  # two processes, at least one stream
        one.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        started = time.monotonic()
        while "reset: invalid cursor" in (text := await live(two.url, root.http.cookies)):
            assert time.monotonic() - started < 2 * TTL + 1, text
            await asyncio.sleep(0.2)
