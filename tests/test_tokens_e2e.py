"""Subscription tokens at a real daphne: a client without the session follows the streams
a token names, by ``?token=`` or a bearer header, across origins; the endpoint refuses an
expired, tampered or foreign token (401) and a topic it does not name (403); a seeded
fuzzer of crafted, stolen, expired and foreign tokens never reads another user's events."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.services import Backend, Server
from tests.sse_client import Client, to_topic, to_user

pytestmark = pytest.mark.e2e
ORIGIN = "https://app.example.com"


async def mint(client: Client, topics: Sequence[str] = (), **params: Any) -> str:
    answer = await client.http.get("/test/token/", params={"topic": list(topics), **params})
    answer.raise_for_status()
    return str(answer.json()["token"])


@pytest.fixture
def server(sqlite_backend: Backend, start_server: ServerFactory) -> Server:
    return start_server(
        sqlite_backend, SSE_HEARTBEAT_INTERVAL=0.3, SSE_CORS_ALLOWED_ORIGINS=[ORIGIN]
    )


async def test_a_token_opens_the_streams_it_names_without_the_session(server: Server) -> None:
    async with Client(server.url) as ann, Client(server.url) as app:
        ann_pk = await ann.login("token-ann")
        token = await mint(ann, ["open-room"])
        headers = {"Origin": ORIGIN}
        async with (
            app.open("GET", "/events/", {"token": token}, headers) as by_query,
            app.open("GET", "/events/", None, {"Authorization": f"Bearer {token}"}) as by_header,
        ):
            for reader in (by_query, by_header):
                assert reader.response.status_code == 200
            assert by_query.response.headers["Access-Control-Allow-Origin"] == ORIGIN
            await ann.wait_hub(subscriptions=2)
            await ann.publish(to_user(ann_pk, "for ann"), to_topic("open-room", "in the room"))
            for reader in (by_query, by_header):
                assert [e.data for e in await reader.events(2)] == ["for ann", "in the room"]


async def test_the_token_wins_over_a_session_of_another_user(server: Server) -> None:
    async with Client(server.url) as ann, Client(server.url) as bob:
        ann_pk = await ann.login("token-ann2")
        bob_pk = await bob.login("token-bob2")
        token = await mint(ann)
        async with bob.stream({"token": token}) as reader:  # bob's cookie, ann's token
            await ann.wait_hub(subscriptions=1)
            await ann.publish(to_user(bob_pk, "for bob"), to_user(ann_pk, "for ann"))
            assert [e.data for e in await reader.events(1)] == ["for ann"]


async def test_what_the_endpoint_refuses_and_how(server: Server) -> None:
    async with Client(server.url) as ann, Client(server.url) as app:
        await ann.login("token-ann3")
        token = await mint(ann, ["open-room"])

        async def status(params: dict[str, Any], **headers: str) -> httpx.Response:
            return await app.http.get(
                "/events/", params=params, headers={"Accept": "text/event-stream", **headers}
            )

        expired = await mint(ann, max_age=0.5)
        await asyncio.sleep(1.1)
        cases = {
            "expired": ({"token": expired}, 401, "expired"),
            "tampered": ({"token": token[:-2] + "xx"}, 401, "invalid"),
            "garbage": ({"token": "x" * 3000}, 401, "malformed"),
            "other topic": ({"token": token, "topic": "open-other"}, 403, ""),
        }
        for name, (params, code, reason) in cases.items():
            answer = await status(params)
            assert answer.status_code == code, name
            if code == 401:
                assert answer.text == f"Subscription token refused: {reason}."
                assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
        bearer = await status({}, Authorization="Bearer nonsense")
        assert bearer.status_code == 401
        preflight = await app.http.options("/events/", headers={"Origin": ORIGIN})
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
        await ann.http.get("/test/token/", params={"password": "changed-password"})
        assert (await status({"token": token})).status_code == 401
        log = server.log_path().read_text()
        assert token not in log and expired not in log  # never logged in full


async def follow(server: Server, token: str | None, sentinel: str) -> list[str] | int:
    """The targets of what a cookie-less client reads with ``token``, or the refusal."""
    async with Client(server.url) as client, client.stream({"token": token or ""}) as reader:
        if reader.response.status_code != 200:
            return reader.response.status_code
        targets: list[str] = []
        while True:
            (event,) = await reader.events(1, timeout=30)
            data = json.loads(event.data)
            if data == {"sentinel": sentinel}:
                return targets
            targets.append(data["to"])


async def test_fuzzed_tokens_never_read_another_users_events(server: Server) -> None:
    rng = random.Random(11)
    topics = ["open-a", "open-b", "vip-x"]
    async with Client(server.url) as ann, Client(server.url) as bob, Client(server.url) as vip:
        pks = {
            "ann": await ann.login("fuzz-ann"),
            "bob": await bob.login("fuzz-bob"),
            "vip": await vip.login("vip-fuzz"),
        }
        owners = {"ann": ann, "bob": bob, "vip": vip}
        for _ in range(3):
            tries: list[tuple[str, set[str]]] = []  # token, what it may read (none: refused)
            for _ in range(8):
                who = rng.choice(list(owners))
                named = rng.sample(topics, rng.randint(0, 2))
                token = await mint(owners[who], named)
                kind = rng.choice(["own", "own", "tampered", "crafted", "expired", "foreign"])
                readable = {"broadcast", f"user:{pks[who]}", *(f"topic:{t}" for t in named)}
                if "vip-x" in named and who != "vip":
                    readable = set()  # the authorizer refuses vip-x to others: 403
                if kind == "tampered":
                    at = rng.randrange(len(token))
                    swapped = "A" if token[at] != "A" else "B"
                    token, readable = token[:at] + swapped + token[at + 1 :], set()
                elif kind == "crafted":
                    alphabet = "abcXYZ012:_-"
                    token = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
                    readable = set()
                elif kind == "expired":
                    token, readable = await mint(owners[who], named, max_age=0.01), set()
                elif kind == "foreign":  # a valid token from a site with another key
                    token, readable = _foreign_token(pks[who], named), set()
                tries.append((token, readable))
            await asyncio.sleep(0.05)  # the expired ones are expired by now
            sentinel = uuid.uuid4().hex
            tasks = [asyncio.create_task(follow(server, t, sentinel)) for t, _ in tries]
            admitted = sum(bool(r) for _, r in tries)
            await ann.wait_hub(subscriptions=admitted, timeout=30)
            specs = [to_user(pk, {"to": f"user:{pk}"}) for pk in pks.values()]
            specs += [to_topic(t, {"to": f"topic:{t}"}) for t in topics]
            specs.append({"kind": "broadcast", "data": {"to": "broadcast"}})
            await ann.publish(*specs)
            await ann.publish({"kind": "broadcast", "data": {"sentinel": sentinel}})
            results = await asyncio.gather(*tasks)
            for (token, readable), got in zip(tries, results, strict=True):
                if not readable:
                    assert got in (401, 403), (token, got)
                else:
                    assert isinstance(got, list) and set(got) == readable, (token, got)


def _foreign_token(pk: int, topics: list[str]) -> str:
    from django.core import signing

    from django_sse.tokens import SALT

    payload = {"u": str(pk), "t": topics, "e": 2**40, "h": "0" * 16}
    return signing.dumps(payload, key="another-site-" + "k" * 40, salt=SALT, compress=True)
