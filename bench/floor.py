"""The floor: a bare asyncio server writing pre-encoded frames, no framework at all.

``python -m bench.floor --port P``. ``GET /events/`` answers the same headers as
the Django targets (chunked) and keeps the transport in a set; ``POST
/bench/publish/`` encodes each event once, as one HTTP chunk, and writes the same
bytes to every transport. A heartbeat comment goes to all every 15 s. No
request parsing beyond the first line and ``Content-Length``, no backpressure.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from bench.payload import EVENT, PublishRequest

HEARTBEAT = 15.0  # seconds
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
SUBSCRIBERS: set[asyncio.Transport] = set()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def answer(status: str, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            SUBSCRIBERS.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.transport in SUBSCRIBERS:
            return  # a subscriber says nothing more
        self.buf += data
        head, sep, body = self.buf.partition(b"\r\n\r\n")
        if not sep:
            return
        method, path, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
        if method == b"GET" and path.startswith(b"/events/"):
            SUBSCRIBERS.add(self.transport)
            self.transport.write(HEAD + chunk(b"retry: 3000\n: connected\n\n"))
        elif method == b"POST" and path == b"/bench/publish/":
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(body) < length:
                return  # wait for the rest of the body
            self.buf = b""
            asyncio.get_running_loop().create_task(self._publish(body[:length]))
        else:
            self.transport.write(answer("404 Not Found", b"{}"))
            self.transport.close()

    async def _publish(self, body: bytes) -> None:
        assert self.transport is not None
        try:
            ask = PublishRequest.parse(body)
        except ValueError:
            self.transport.write(answer("400 Bad Request", b"{}"))
        else:
            for k in range(ask.count):
                data = json.dumps(ask.payload(k)).encode()
                frame = chunk(b"event: %s\ndata: %s\n\n" % (EVENT.encode(), data))
                for transport in SUBSCRIBERS:
                    transport.write(frame)
                await asyncio.sleep(0)  # as an await between publishes would
            self.transport.write(answer("200 OK", b'{"published": %d}' % ask.count))
        self.transport.close()


async def heartbeats() -> None:
    frame = chunk(b":\n\n")
    while True:
        await asyncio.sleep(HEARTBEAT)
        for transport in list(SUBSCRIBERS):
            transport.write(frame)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Connection, "127.0.0.1", port, backlog=4096)
    beat = loop.create_task(heartbeats())
    try:
        async with server:
            await server.serve_forever()
    finally:
        beat.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description="the bare asyncio floor")
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
