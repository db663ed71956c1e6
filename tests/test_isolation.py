"""Isolation under a seeded fuzzer: nobody receives an event of a stream it may not read,
whatever topics, cursors (crafted or stolen) and users it tries, and after losing access."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass, field

from tests.services import Backend, Server
from tests.sse_client import Client, broadcast, to_topic, to_user

SEED = 7
TOPICS = ["open-a", "open-b", "vip-x", "open-c"]


@dataclass
class Visitor:
    client: Client
    name: str | None  # None: anonymous
    staff: bool
    pk: int = 0
    topics: list[str] = field(default_factory=list)
    last_id: str | None = None

    def readable(self) -> set[str]:
        own = {f"user:{self.pk}"} if self.name else set()
        return {"broadcast", *own, *(f"topic:{t}" for t in self.topics)}

    def allowed(self) -> bool:
        return self.staff or "vip-x" not in self.topics


async def follow(visitor: Visitor, cursor: str | None, sentinel: str) -> list[str]:
    """The targets of every event received until ``sentinel``; [] if refused."""
    targets: list[str] = []
    async with visitor.client.stream({"topic": visitor.topics}, last_event_id=cursor) as reader:
        if reader.response.status_code == 403:
            assert not visitor.allowed()
            return []
        assert reader.response.status_code == 200 and visitor.allowed()
        while True:
            (event,) = await reader.events(1, timeout=30)
            visitor.last_id = event.id
            if event.event == "sse:reset":
                continue
            data = json.loads(event.data)
            if data == {"sentinel": sentinel}:
                return targets
            targets.append(data["to"])


def craft(rng: random.Random, visitors: list[Visitor]) -> str | None:
    stolen = [v.last_id for v in visitors if v.last_id]
    kind = rng.choice(["none", "crafted", "stolen", "stolen"])
    if kind == "stolen" and stolen:
        return rng.choice(stolen)
    if kind == "crafted":
        tag = "".join(rng.choice("ABCxyz012-_") for _ in range(6))
        return tag + "".join(f".{rng.randint(0, 50):x}" for _ in range(rng.randint(1, 6)))
    return None


async def round_of(server: Server, visitors: list[Visitor], rng: random.Random) -> None:
    sentinel = uuid.uuid4().hex
    for v in visitors:
        v.topics = rng.sample(TOPICS, rng.randint(0, 3))
    cursors = [craft(rng, visitors) for v in visitors]
    tasks = [
        asyncio.create_task(follow(v, c, sentinel)) for v, c in zip(visitors, cursors, strict=True)
    ]
    admitted = sum(v.allowed() for v in visitors)
    publisher = visitors[0].client
    await publisher.wait_hub(subscriptions=admitted, timeout=30)
    specs = [broadcast({"to": "broadcast"})]
    specs += [to_topic(t, {"to": f"topic:{t}"}) for t in TOPICS]
    specs += [to_user(v.pk, {"to": f"user:{v.pk}"}) for v in visitors if v.name]
    rng.shuffle(specs)
    await publisher.publish(*specs, broadcast({"sentinel": sentinel}))
    for visitor, task in zip(visitors, tasks, strict=True):
        received = await task
        assert set(received) <= visitor.readable(), (visitor.name, visitor.topics, received)
        if visitor.allowed():  # and it missed nothing published while it was live
            assert visitor.readable() <= set(received)


async def test_no_event_reaches_anyone_who_may_not_read_it(daphne: Server) -> None:
    rng = random.Random(SEED)
    visitors = []
    for i in range(14):
        staff = i % 3 == 0  # the test server makes users named vip* staff
        name = None if i % 5 == 4 else f"{'vip' if staff else 'iso'}{uuid.uuid4().hex[:6]}"
        visitor = Visitor(Client(daphne.url), name, staff=bool(name) and staff)
        if name:
            visitor.pk = await visitor.client.login(name)
        visitors.append(visitor)
    try:
        for _ in range(6):
            await round_of(daphne, visitors, rng)
    finally:
        for v in visitors:
            await v.client.__aexit__()


async def test_a_user_who_lost_access_gets_no_replay(
    daphne: Server, sqlite_backend: Backend
) -> None:
    sqlite_path = sqlite_backend.db.partition(":")[2]
    async with Client(daphne.url) as client:
        name = f"vip{uuid.uuid4().hex[:6]}"
        await client.login(name)
        async with client.stream({"topic": "vip-lost"}) as reader:
            await client.wait_hub(subscriptions=1)
            await client.publish(to_topic("vip-lost", "secret 1"))
            (first,) = await reader.events(1)
        with closing(sqlite3.connect(sqlite_path)) as db, db:
            db.execute("UPDATE auth_user SET is_staff = 0 WHERE username = ?", (name,))
        await client.publish(to_topic("vip-lost", "secret 2"))
        async with client.stream({"topic": "vip-lost"}, last_event_id=first.id) as reader:
            assert reader.response.status_code == 403
        async with client.stream(last_event_id=first.id) as reader:  # the same cursor, no topic
            (reset,) = await reader.events(1)
    assert reset.event == "sse:reset"
