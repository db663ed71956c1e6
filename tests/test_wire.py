"""The wire format, checked through an independent parser (httpx-sse)."""

from __future__ import annotations

import re

import pytest
from httpx_sse._decoders import SSEDecoder

from django_sse.wire import (
    HEARTBEAT,
    check_event_name,
    encode_comment,
    encode_event,
    encode_id_line,
    encode_retry,
)


class Parsed:
    """What a conforming client sees: the events fired and the retry delay."""

    def __init__(self, stream: bytes) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.retry: int | None = None
        decoder = SSEDecoder()
        has_data = False  # httpx-sse also fires blocks with no data line; browsers do not
        for line in re.split(r"\r\n|\r|\n", stream.decode()):
            has_data = has_data or line.partition(":")[0] == "data"
            sse = decoder.decode(line)
            if sse is None:
                continue
            self.retry = sse.retry if sse.retry is not None else self.retry
            if has_data:
                self.events.append((sse.event, sse.data, sse.id))
            has_data = False


def parse(stream: bytes) -> list[tuple[str, str, str]]:
    return Parsed(stream).events


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("YHOO\n+2\n10", "YHOO\n+2\n10"),
        ("a\rb\r\nc", "a\nb\nc"),
        ("", ""),
        ("\n", "\n"),
        ("  third", "  third"),
        (": not a comment", ": not a comment"),
        ("data: nested", "data: nested"),
        ("ünïcødé ✓", "ünïcødé ✓"),
        ("trailing\n", "trailing\n"),
    ],
)
def test_data_round_trips(data: str, expected: str) -> None:
    assert parse(encode_event(data)) == [("message", expected, "")]


def test_multi_line_data_gets_one_data_line_per_piece() -> None:
    assert encode_event("YHOO\n+2\n10") == b"data: YHOO\ndata: +2\ndata: 10\n\n"


def test_cr_and_crlf_end_lines_like_lf() -> None:
    assert encode_event("a\rb\r\nc") == b"data: a\ndata: b\ndata: c\n\n"


def test_named_event_and_id_round_trip() -> None:
    frame = encode_event('{"x":1}', "notification", "abc.1")
    assert frame == b'id: abc.1\nevent: notification\ndata: {"x":1}\n\n'
    assert parse(frame) == [("notification", '{"x":1}', "abc.1")]


def test_default_event_name_writes_no_event_line() -> None:
    assert encode_event("x", "message") == b"data: x\n\n"


def test_id_only_block_fires_nothing() -> None:
    assert parse(encode_id_line("7") + b"\n") == []


def test_event_name_is_case_sensitive() -> None:
    assert parse(encode_event("x", "Notice")) == [("Notice", "x", "")]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b", ""])
def test_event_name_with_line_break_or_nul_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="event name"):
        encode_event("x", bad)


def test_event_name_must_be_text() -> None:
    with pytest.raises(TypeError, match="event name must be a str"):
        check_event_name(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "a\nb", "a\rb", "a\x00b"])
def test_id_that_would_reset_or_be_ignored_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="event id"):
        encode_id_line(bad)


def test_comment_lines_all_start_with_colon_and_fire_nothing() -> None:
    comment = encode_comment("one\ntwo\rthree")
    assert comment == b": one\n: two\n: three\n\n"
    assert parse(comment + encode_event("after")) == [("message", "after", "")]


def test_heartbeat_is_a_comment() -> None:
    assert HEARTBEAT.startswith(b":")
    assert parse(HEARTBEAT) == []


def test_retry_is_digits_only() -> None:
    assert encode_retry(10000) == b"retry: 10000\n\n"
    assert Parsed(encode_retry(10000)).retry == 10000


@pytest.mark.parametrize(("bad", "error"), [(-5, ValueError), (1.5, TypeError), (True, TypeError)])
def test_retry_refuses_what_browsers_ignore(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_retry(bad)  # type: ignore[arg-type]


def test_frames_concatenate_into_one_stream() -> None:
    stream = encode_retry(3000) + encode_comment("hi") + encode_event("1", id="c.1")
    stream += encode_event("2", "tick", "c.2")
    parsed = Parsed(stream)
    assert parsed.events == [("message", "1", "c.1"), ("tick", "2", "c.2")]
    assert parsed.retry == 3000


# The parser vectors of SSE_SPEC.md: first the reference parser above must agree
# with the standard on each, then what we encode for the same events parses back.
SPEC_VECTORS = [
    (b"data: YHOO\ndata: +2\ndata: 10\n\n", [("message", "YHOO\n+2\n10", "")]),
    (
        b": c\n\ndata: first\nid: 1\n\ndata:second\nid\n\ndata:  third\n\n",
        [("message", "first", "1"), ("message", "second", ""), ("message", " third", "")],
    ),
    (b"data\n\ndata\ndata\n\ndata:", [("message", "", ""), ("message", "\n", "")]),
    (b"id: a\0b\ndata: x\n\n", [("message", "x", "")]),
    (b"id: 7\n\n", []),
    (b"data: a\rdata: b\r\n\n", [("message", "a\nb", "")]),
]


@pytest.mark.parametrize(("stream", "expected"), SPEC_VECTORS)
def test_reference_parser_follows_the_spec_vectors(
    stream: bytes, expected: list[tuple[str, str, str]]
) -> None:
    assert parse(stream) == expected


@pytest.mark.parametrize(("stream", "expected"), SPEC_VECTORS)
def test_spec_vector_events_round_trip_through_our_encoder(
    stream: bytes, expected: list[tuple[str, str, str]]
) -> None:
    # Ids: we never emit an empty one (it would reset the browser's cursor).
    encoded = b"".join(encode_event(data, event) for event, data, _ in expected)
    assert [(e, d) for e, d, _ in parse(encoded)] == [(e, d) for e, d, _ in expected]
