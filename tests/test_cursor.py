from __future__ import annotations

import re

import pytest

from django_sse.cursor import MAX_CURSOR_LENGTH, Cursor, InvalidCursor, decode, stream_tag

STREAMS = ["broadcast", "topic:orders", "user:42"]
SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def test_cursor_round_trips_positions() -> None:
    cursor = Cursor(STREAMS, {"broadcast": 5, "user:42": 123456789})
    assert decode(cursor.encode(), STREAMS) == {
        "broadcast": 5,
        "topic:orders": 0,
        "user:42": 123456789,
    }


def test_advance_changes_only_that_stream() -> None:
    cursor = Cursor(STREAMS, {})
    cursor.advance("topic:orders", 36)
    assert cursor.encode() == stream_tag(STREAMS) + ".0.10.0"
    assert decode(cursor.encode(), reversed(STREAMS))["topic:orders"] == 36


def test_cursor_is_cors_safe_and_short_for_ten_streams() -> None:
    streams = ["broadcast", "user:1"] + [f"topic:{'t' * 80}{i}" for i in range(8)]
    cursor = Cursor(streams, dict.fromkeys(streams, 36**8 - 1))
    value = cursor.encode()
    assert SAFE.fullmatch(value)
    assert len(value) <= MAX_CURSOR_LENGTH


def test_cursor_of_other_streams_is_refused() -> None:
    value = Cursor(STREAMS, {}).encode()
    with pytest.raises(InvalidCursor, match="another set of streams"):
        decode(value, ["broadcast"])


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        "garbage.1.2.3",
        "TAG.1.2",
        "{tag}.1.2",
        "{tag}.1.2.3.4",
        "{tag}.1..3",
        "{tag}.1.-2.3",
        "{tag}.1.A.3",
        "{tag}.1.2_0.3",
        "{tag}.1.2.3" + "0" * 200,
        "{tag}.1.2.1234567890123",
    ],
)
def test_malformed_cursor_is_refused(bad: str) -> None:
    with pytest.raises(InvalidCursor):
        decode(bad.replace("{tag}", stream_tag(STREAMS)), STREAMS)


def test_chunk_advances_and_prefixes_the_id_line() -> None:
    cursor = Cursor(STREAMS, {})
    chunk = cursor.chunk("user:42", 37, b"data: x\n\n")
    assert chunk == f"id: {stream_tag(STREAMS)}.0.0.11\n".encode() + b"data: x\n\n"
    assert cursor.positions["user:42"] == 37


def test_one_stream_cursors_share_the_chunk_of_the_same_frame() -> None:
    frame = b"data: shared\n\n"
    first, second = Cursor(["broadcast"], {}), Cursor(["broadcast"], {})
    a, b = first.chunk("broadcast", 5, frame), second.chunk("broadcast", 5, frame)
    assert a is b and a == f"id: {stream_tag(['broadcast'])}.5\n".encode() + frame
    assert first.chunk("broadcast", 6, frame) is not a  # another id, another chunk


def test_carry_over_keeps_the_shared_streams_of_a_cursor_for_other_streams() -> None:
    from django_sse.cursor import Cursor, InvalidCursor, carry_over

    old = Cursor(["broadcast", "topic:a", "topic:b"], {"broadcast": 4, "topic:a": 7}).encode()
    assert carry_over(old, ["topic:b", "broadcast", "topic:a"], ["broadcast", "topic:c"]) == {
        "broadcast": 4
    }
    with pytest.raises(InvalidCursor):  # not a cursor of the streams it claims
        carry_over(old, ["broadcast", "topic:x"], ["broadcast"])
