"""Body chunks sent to the socket at once on daphne when nothing waits before them.

Twisted never writes when asked: ``transport.write`` queues the bytes and registers
the socket for writability (an ``epoll_ctl``); the next loop turn sends them and
unregisters it (another ``epoll_ctl``). For a stream that writes one small chunk per
event this was 58% of daphne's CPU per delivery. When the transport holds nothing
unsent, a plain TCP (or Unix) socket can take the chunk now: ``send()`` it and hand
only what the kernel did not accept to Twisted, which then writes that and everything
after it in order. TLS transports, closing or half-closed ones and paused producers
keep Twisted's path. Imported only when daphne (and so Twisted) is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet import tcp


def write_body_now(request: Any, message: Mapping[str, Any]) -> bool:
    """Write one more-to-come body chunk of a daphne response; False leaves it to daphne."""
    body = message.get("body", b"")
    if message.get("type") != "http.response.body" or not message.get("more_body") or not body:
        return False
    if not _appending(request):
        return False
    transport = request.channel.transport
    # What twisted.web.http.Request.write sends once the headers are out.
    payload = b"%x\r\n%b\r\n" % (len(body), body) if request.chunked else bytes(body)
    sent = send_now(transport, payload)
    if sent is None:
        return False
    request.sentLength += len(body)
    if sent < len(payload):
        transport.write(payload[sent:])
    return True


def send_now(transport: Any, data: bytes) -> int | None:
    """Bytes of ``data`` the socket took at once; None (nothing sent) if only Twisted may write."""
    if not _idle_plain_socket(transport):
        return None
    try:
        return int(transport.socket.send(data))
    except BlockingIOError:
        return 0  # the kernel's buffer is full: Twisted sends it all when there is room
    except OSError:
        return 0  # a broken connection: Twisted's own send sees it and reports it


def _appending(request: Any) -> bool:
    """Whether daphne would only append this chunk to a response already under way."""
    return bool(
        getattr(request, "startedWriting", False)  # the headers are out
        and not getattr(request, "finished", True)
        and not getattr(request, "_disconnected", True)
        and getattr(request, "channel", None) is not None
        and getattr(request, "producer", True) is None
        # HEAD and bodiless statuses: Twisted swaps in a no-op write; daphne decides.
        and "write" not in vars(request)
    )


def _idle_plain_socket(transport: Any) -> bool:
    """A socket Twisted holds no unsent bytes for and writes to without any layer."""
    return bool(
        isinstance(transport, tcp.Connection)  # TLS endpoints wrap a protocol around it
        and not transport.TLS  # startTLS on a TCP connection
        and transport.connected
        and not transport.disconnecting
        and not transport._aborting
        and not transport._writeDisconnecting
        and not transport.dataBuffer
        and not transport._tempDataBuffer
        and not getattr(transport, "_sendmsgQueue", None)  # Unix sockets passing descriptors
        and (
            transport.producer is None
            or (transport.streamingProducer and not transport.producerPaused)
        )
    )
