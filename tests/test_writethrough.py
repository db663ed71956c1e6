"""daphne's body chunks go straight to the socket when Twisted holds nothing unsent.

The harness is daphne's own ``HTTPFactory``/``WebRequest`` and Twisted's
``HTTPChannel`` on a real TCP connection; the reactor is Twisted's
``MemoryReactorClock``, so no loop turn happens unless a test runs one
(``loop_turn``): whatever the client can read before that was written through.
"""

from __future__ import annotations

import errno
import queue
import random
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from daphne.http_protocol import HTTPFactory, WebRequest
from django.test import override_settings
from twisted.internet import error, tcp
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.web import http

from django_sse.server import backpressure, writethrough
from django_sse.server.backpressure import bound_daphne_buffers
from django_sse.server.writethrough import send_now, write_body_now

# Twisted is only partly annotated: the harness handles its objects as Any.
Reactor: Any = MemoryReactorClock
TcpServer: Any = tcp.Server
init_http_factory: Any = http.HTTPFactory.__init__

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/event-stream")],
}


def body(data: bytes, more: bool = True) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


class DaphneServer:
    """What daphne's ``WebRequest`` asks of its ``daphne.server.Server``."""

    server_name = "daphne"
    root_path = ""
    proxy_forwarded_address_header = None
    request_buffer_size = 8192
    http_timeout = None

    def __init__(self) -> None:
        self.requests: list[WebRequest] = []

    def protocol_connected(self, request: WebRequest) -> None:
        pass

    def protocol_disconnected(self, request: WebRequest) -> None:
        pass

    def create_application(self, request: WebRequest, scope: dict[str, Any]) -> Any:
        self.requests.append(request)
        return queue.SimpleQueue()

    def log_action(self, *args: Any) -> None:
        pass


@dataclass
class Stream:
    """One daphne request on a real TCP connection; the reactor runs only when told."""

    transport: Any
    client: socket.socket
    request: WebRequest
    reactor: Any
    received: bytearray = field(default_factory=bytearray)

    def reply(self, message: dict[str, Any]) -> None:
        self.request.handle_reply(message)

    def loop_turn(self) -> None:
        """What the reactor does when the socket is writable: one ``doWrite``."""
        if self.transport in self.reactor.getWriters():
            result = self.transport.doWrite()
            assert result is None, result

    def read(self) -> bytes:
        """Everything the client can read now (without waiting)."""
        while True:
            try:
                data = self.client.recv(1 << 20)
            except BlockingIOError:
                return bytes(self.received)
            if not data:
                return bytes(self.received)
            self.received += data

    def drain(self, size: int, timeout: float = 10.0) -> bytes:
        """Run the loop and read until the client has ``size`` bytes, or fail at the deadline."""
        deadline = time.monotonic() + timeout
        while len(self.read()) < size:
            assert time.monotonic() < deadline, f"{len(self.received)} of {size} bytes"
            self.loop_turn()
            select.select([self.client], [], [], 0.01)
        return bytes(self.received)

    def body_read(self) -> bytes:
        return self.read().partition(b"\r\n\r\n")[2]


def open_stream(sndbuf: int | None = None, rcvbuf: int | None = None) -> Stream:
    reactor = Reactor()
    factory = HTTPFactory.__new__(HTTPFactory)
    init_http_factory(factory, timeout=None, reactor=reactor)
    factory.server = DaphneServer()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        if rcvbuf is not None:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock, peer = listener.accept()
    if sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    client.setblocking(False)
    protocol = factory.buildProtocol(peer)
    transport = TcpServer(sock, protocol, peer, None, 1, reactor)
    transport.repstr = "<daphne's transport>"
    protocol.makeConnection(transport)
    protocol.dataReceived(b"GET /events/ HTTP/1.1\r\nHost: x\r\n\r\n")
    (request,) = factory.server.requests
    return Stream(transport, client, request, reactor)


@pytest.fixture
def stream() -> Iterator[Stream]:
    assert bound_daphne_buffers()
    opened = open_stream()
    yield opened
    opened.client.close()
    opened.transport.socket.close()


@pytest.fixture
def flowing(stream: Stream) -> Stream:
    """A stream whose headers and first chunk Twisted has sent."""
    stream.reply(START)
    stream.reply(body(b": hello\n\n"))
    stream.loop_turn()
    assert stream.body_read() == chunk(b": hello\n\n")
    assert stream.reactor.getWriters() == []
    return stream


def test_a_chunk_reaches_the_client_without_a_loop_turn(flowing: Stream) -> None:
    flowing.reply(body(b"data: 1\n\n"))
    assert flowing.body_read() == chunk(b": hello\n\n") + chunk(b"data: 1\n\n")
    assert flowing.reactor.getWriters() == []  # no writer registered, none to remove
    assert flowing.request.sentLength == 18


def test_a_chunk_waits_behind_bytes_twisted_holds(stream: Stream) -> None:
    stream.reply(START)
    stream.reply(body(b"data: 1\n\n"))  # the headers' first write: Twisted's buffer
    stream.reply(body(b"data: 2\n\n"))
    assert stream.read() == b""
    assert stream.reactor.getWriters() == [stream.transport]
    stream.loop_turn()
    assert stream.body_read() == chunk(b"data: 1\n\n") + chunk(b"data: 2\n\n")


def test_the_last_chunk_and_the_end_go_through_daphne(flowing: Stream) -> None:
    flowing.reply(body(b"data: end\n\n", more=False))
    flowing.loop_turn()
    assert flowing.body_read() == chunk(b": hello\n\n") + chunk(b"data: end\n\n") + b"0\r\n\r\n"
    assert flowing.request.finished


def test_an_empty_chunk_writes_nothing(flowing: Stream) -> None:
    flowing.reply(body(b""))
    assert flowing.body_read() == chunk(b": hello\n\n")
    assert flowing.reactor.getWriters() == []


def test_the_rest_of_a_partial_send_goes_to_twisted_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcomes: list[str] = []

    def counted(transport: Any, data: bytes) -> int | None:
        sent = send_now(transport, data)
        outcomes.append("twisted" if sent is None else "all" if sent == len(data) else "part")
        return sent

    monkeypatch.setattr(writethrough, "send_now", counted)
    assert bound_daphne_buffers()
    stream = open_stream(sndbuf=16384, rcvbuf=16384)
    stream.reply(START)
    stream.reply(body(b": hello\n\n"))
    stream.loop_turn()
    rng = random.Random(6)
    sent = [rng.randbytes(rng.choice([10, 300, 5000, 70000])) for _ in range(60)]
    for data in sent:
        stream.reply(body(data))
        if rng.random() < 0.7:
            stream.read()
            stream.loop_turn()
    expected = chunk(b": hello\n\n") + b"".join(chunk(d) for d in sent)
    headers = stream.read().index(b"\r\n\r\n") + 4
    assert stream.drain(headers + len(expected))[headers:] == expected
    assert stream.reactor.getWriters() == []
    assert {"twisted", "all", "part"} <= set(outcomes)
    stream.client.close()
    stream.transport.socket.close()


@override_settings(SSE_MAX_BUFFERED_BYTES=65536)
def test_a_client_that_stops_reading_is_still_aborted_at_the_limit() -> None:
    assert bound_daphne_buffers()
    stream = open_stream(sndbuf=16384, rcvbuf=16384)
    stream.reply(START)
    stream.reply(body(b": hello\n\n"))
    stream.loop_turn()
    for _ in range(100):
        stream.reply(body(b"x" * 16000))
        if stream.transport._aborting:
            break
    assert stream.transport._aborting
    stream.reactor.advance(0)  # the abort's connectionLost
    assert stream.request._disconnected
    stream.client.close()


# send_now's edge cases, on a real tcp.Server whose socket is a stand-in.


class FakeSocket:
    def __init__(self, outcome: int | OSError) -> None:
        self.outcome = outcome
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        if isinstance(self.outcome, OSError):
            raise self.outcome
        self.sent.append(bytes(data[: self.outcome]))
        return min(self.outcome, len(data))


@pytest.fixture
def transport() -> Iterator[Any]:
    sock = socket.socket()
    server = TcpServer(sock, Protocol(), ("127.0.0.1", 1), None, 1, Reactor())
    server.repstr = "<transport>"
    yield server
    sock.close()


def fake(transport: Any, outcome: int | OSError) -> FakeSocket:
    socket_ = transport.socket = FakeSocket(outcome)
    return socket_


def test_all_that_the_socket_takes_is_sent_at_once(transport: Any) -> None:
    socket_ = fake(transport, 100)
    assert send_now(transport, b"abcdef") == 6
    socket_.outcome = 4
    assert send_now(transport, b"ghijkl") == 4
    assert socket_.sent == [b"abcdef", b"ghij"]


def test_a_full_socket_buffer_leaves_everything_to_twisted(transport: Any) -> None:
    fake(transport, BlockingIOError(errno.EAGAIN, "try again"))
    assert send_now(transport, b"abcdef") == 0


def test_a_broken_connection_is_reported_by_twisted(transport: Any) -> None:
    socket_ = fake(transport, BrokenPipeError(errno.EPIPE, "broken pipe"))
    assert send_now(transport, b"abcdef") == 0
    transport.write(b"abcdef")  # what write_body_now does with the unsent rest
    assert socket_.sent == []
    assert isinstance(transport.doWrite(), error.ConnectionLost)


@pytest.mark.parametrize(
    "state",
    [
        {"TLS": True},
        {"connected": 0},
        {"disconnecting": 1},
        {"_aborting": True},
        {"_writeDisconnecting": True},
        {"dataBuffer": b"held"},
        {"_tempDataBuffer": [b"held"]},
        {"producer": object(), "streamingProducer": True, "producerPaused": True},
        {"producer": object(), "streamingProducer": False},
    ],
    ids=lambda state: ",".join(state),
)
def test_only_twisted_writes_to_a_transport_that_is_not_idle_and_plain(
    transport: Any, state: dict[str, Any]
) -> None:
    socket_ = fake(transport, 100)
    for name, value in state.items():
        setattr(transport, name, value)
    assert send_now(transport, b"abcdef") is None
    assert socket_.sent == []


def test_a_streaming_producer_that_is_not_paused_allows_sending(transport: Any) -> None:
    transport.registerProducer(Protocol(), True)
    socket_ = fake(transport, 100)
    assert send_now(transport, b"abcdef") == 6
    assert socket_.sent == [b"abcdef"]


def test_a_tls_wrapper_is_never_written_around() -> None:
    from twisted.protocols.tls import TLSMemoryBIOProtocol

    assert send_now(TLSMemoryBIOProtocol.__new__(TLSMemoryBIOProtocol), b"abc") is None
    assert send_now(object(), b"abc") is None


def test_a_request_daphne_must_handle_is_left_to_it(stream: Stream) -> None:
    assert not write_body_now(stream.request, body(b"data: 1\n\n"))  # headers not out yet
    stream.reply(START)
    stream.reply(body(b": hello\n\n"))
    stream.loop_turn()
    assert not write_body_now(stream.request, START)
    assert not write_body_now(stream.request, body(b"data: 1\n\n", more=False))
    stream.request.write = lambda data: None  # what Twisted does for HEAD
    assert not write_body_now(stream.request, body(b"data: 1\n\n"))
    del stream.request.write
    stream.request.finished = True
    assert not write_body_now(stream.request, body(b"data: 1\n\n"))
    assert stream.body_read() == chunk(b": hello\n\n")


def test_a_twisted_of_another_shape_costs_speed_never_a_response(
    flowing: Stream, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Write-through reads Twisted attributes that are not public: if one is gone, every
    chunk takes daphne's own path, the process says so once, and nothing is lost."""

    def renamed(transport: Any) -> bool:
        raise AttributeError("'Server' object has no attribute '_writeDisconnecting'")

    monkeypatch.setattr(backpressure, "_write_through_off", False)
    monkeypatch.setattr(writethrough, "_idle_plain_socket", renamed)
    with caplog.at_level("WARNING", "django_sse.server.backpressure"):
        flowing.reply(body(b"data: 1\n\n"))
        flowing.reply(body(b"data: 2\n\n"))
    assert flowing.drain(len(flowing.received) + 2 * len(chunk(b"data: 1\n\n")))
    assert flowing.body_read().endswith(chunk(b"data: 1\n\n") + chunk(b"data: 2\n\n"))
    assert [r.getMessage()[:40] for r in caplog.records] == [
        "daphne write-through is off for this pro"
    ]
