"""Hostile input against a live server: deliberate answers only, never a 500, no leak.

Seeded, so a failure reproduces: the seed and the offending request are in the message.
"""

from __future__ import annotations

import asyncio
import random
import string
import urllib.parse
from collections import Counter

import pytest

from tests.conftest import ServerFactory
from tests.services import Backend
from tests.sse_client import Client, broadcast

SEED = 20261121
REQUESTS = 1500
PARALLEL = 40
DELIBERATE = {200, 204, 400, 403, 404, 405, 406, 413, 431}
TWISTED_LINE_LIMIT = 16384  # bytes; daphne (Twisted) drops a longer header line unanswered
METHODS = ["GET"] * 6 + ["HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "BREW"]


def junk(rng: random.Random, size: int) -> str:
    alphabet = string.printable + "éü€\u202e\x00\x7f" + ":;.,~-_!@#$%^&*()[]{}<>?/\\|'\""
    return "".join(rng.choice(alphabet) for _ in range(size))


def fuzz_request(rng: random.Random) -> bytes:
    method = rng.choice(METHODS)
    params: list[tuple[str, str]] = []
    for _ in range(rng.choice([0, 0, 1, 2, 5, 12])):
        key = rng.choice(["topic", "topic", "last_event_id", junk(rng, rng.randint(0, 8))])
        value = rng.choice(["open-a", "vip-x", junk(rng, rng.randint(0, 120))])
        params.append((key, value))
    query = urllib.parse.urlencode(params)
    if rng.random() < 0.1:
        query = junk(rng, rng.randint(1, 60)).replace(" ", "%20").replace("\n", "")
    headers = [f"{method} /events/?{query} HTTP/1.1", "Host: 127.0.0.1"]
    if rng.random() < 0.5:
        size = rng.choice([1, 20, 128, 129, 4000, 20000])
        value = junk(rng, size).replace("\r", "").replace("\n", "")
        headers.append("Last-Event-ID: " + value)
    if rng.random() < 0.2:
        headers.append("Accept: " + rng.choice(["application/json", "text/*", "*/*", "x"]))
    return ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8", "surrogatepass")


async def send_one(port: int, raw: bytes) -> int | None:
    """The status of one request (None if the server closed without answering)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(10):
            status_line = await reader.readline()
            if not status_line:
                return None
            status = int(status_line.split()[1])
            if status == 200 and not raw.startswith(b"HEAD"):
                await reader.readuntil(b"\r\n\r\n")
                first = await reader.readuntil(b"\n\n")  # (after a chunk size, if chunked)
                assert b"retry: " in first, first
            return status
    finally:
        writer.close()


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_malformed_requests_get_deliberate_answers_and_others_are_served(
    kind: str, sqlite_backend: Backend, start_server: ServerFactory
) -> None:
    server = start_server(sqlite_backend, kind)
    rng = random.Random(SEED)
    requests = [fuzz_request(rng) for _ in range(REQUESTS)]
    limit = asyncio.Semaphore(PARALLEL)
    seen: Counter[int | None] = Counter()

    async def run(raw: bytes) -> None:
        async with limit:
            status = await send_one(server.port, raw)
        seen[status] += 1
        if status is None:  # only the HTTP server's own limit may close without a status
            longest = max(len(line) for line in raw.split(b"\r\n"))
            assert server.kind == "daphne" and longest > TWISTED_LINE_LIMIT, raw[:300]
        else:
            assert status in DELIBERATE, f"seed {SEED}: {status} for {raw[:300]!r}"

    async with Client(server.url) as canary, canary.stream() as reader:
        await canary.wait_hub(subscriptions=1)
        await asyncio.gather(*[run(raw) for raw in requests])
        await canary.publish(broadcast("still serving"))
        (event,) = await reader.events(1)
    assert event.data == "still serving"
    assert seen[200] > 100 and seen[400] > 50 and seen[405] > 50
    print(f"\nfuzz {kind}: {REQUESTS} requests, statuses {dict(sorted(seen.items(), key=str))}")
