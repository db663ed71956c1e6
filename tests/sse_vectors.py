"""Event-stream parsing vectors: bytes in, events out.

Ported from the web-platform-tests ``eventsource/`` suite and the examples of the
WHATWG HTML standard's "Server-sent events" section; each vector names its source.

A WPT vector's ``stream`` is the exact body the test's server resource sends:
``resources/message.py`` answers ``message + "\\n\\n" + "\\n"`` (or ``message + "\\n"`` with
``newline=none``); ``resources/last-event-id.py`` answers
``"id: " + idvalue + "\\nretry: 200\\ndata: hello\\n\\n"`` on a first connection (and
``"data: " + Last-Event-ID + "\\n\\n"`` on a reconnection, which the tests use to check the
``last_event_id`` recorded here). Each vector starts from a fresh event source (empty last
event ID string, no reconnection time set), and ``retry`` is the reconnection time the
stream leaves set (None when no valid ``retry:`` field occurs).
"""

from __future__ import annotations

from typing import NamedTuple


class Expected(NamedTuple):
    type: str  # the event's type ("message" unless an event: field set it)
    data: str
    last_event_id: str  # MessageEvent.lastEventId of that event


class Vector(NamedTuple):
    name: str
    source: str  # e.g. "wpt eventsource/format-field-id-null.window.js", "WHATWG HTML 9.2.6 ..."
    stream: bytes  # the whole body, as the server sends it
    events: tuple[Expected, ...]  # dispatched, in order
    # The event source's last event ID string once the stream has ENDED (what a reconnect
    # sends as Last-Event-ID); "" if none.
    last_event_id: str
    retry: int | None = None  # the last valid retry: value the stream set, if any


def message(data: str, last_event_id: str = "") -> Expected:
    """An event of the default type."""
    return Expected("message", data, last_event_id)


BOM = b"\xef\xbb\xbf"  # U+FEFF in UTF-8
TAIL = b"\n\n\n"  # what resources/message.py appends to ?message= (no newline=none)
ELLIPSIS = "\u2026"  # last-event-id.py's default id
LONG_COMMENT = b"x" * 2048  # format-comments' long comment lines
LONG_ID = "a" * 255  # cors-unsafe-last-event-id.py: beyond the 128-byte CORS-safe limit
SPEC = "WHATWG HTML, interpreting an event stream"  # our own edge cases of 9.2.6


def _hello(idvalue: bytes) -> bytes:
    """The first response of wpt resources/last-event-id.py."""
    return b"id: " + idvalue + b"\nretry: 200\ndata: hello\n\n"


def _id_null(idvalue: bytes) -> Vector:
    """format-field-id-null: an id containing NUL is ignored, so no id is ever set."""
    return Vector(
        name=f"id field {idvalue!r} containing NUL is ignored",
        source="wpt eventsource/format-field-id-null.window.js (resources/last-event-id.py)",
        stream=_hello(idvalue),
        events=(message("hello"),),
        last_event_id="",
        retry=200,
    )


VECTORS: tuple[Vector, ...] = (
    # ---- web-platform-tests eventsource/format-*.any.js and friends ----
    Vector(
        name="one leading BOM is stripped, a BOM before a later field is not",
        source="wpt eventsource/format-bom.any.js (resources/message.py)",
        stream=BOM + b"data:1\n\n" + BOM + b"data:2\n\ndata:3" + TAIL,
        events=(message("1"), message("3")),
        last_event_id="",
    ),
    Vector(
        name="only the first of two leading BOMs is stripped",
        source="wpt eventsource/format-bom-2.any.js (resources/message.py)",
        stream=BOM + BOM + b"data:1\n\ndata:2\n\ndata:3" + TAIL,
        events=(message("2"), message("3")),
        last_event_id="",
    ),
    Vector(
        name="comment fest: comments end with CR, LF or CRLF and never break a block",
        source="wpt eventsource/format-comments.any.js (resources/message.py, newline=none)",
        stream=(
            b"data:1\r:\x00\n:\r\ndata:2\n:"
            + LONG_COMMENT
            + b"\rdata:3\n:data:fail\r:"
            + LONG_COMMENT
            + b"\ndata:4\n\n"
        ),
        events=(message("1\n2\n3\n4"),),
        last_event_id="",
    ),
    Vector(
        name="an unfinished final block is dropped, and so is its id",
        source=(
            "wpt eventsource/format-data-before-final-empty-line.any.js"
            " (resources/message.py, newline=none)"
        ),
        stream=b"retry:1000\ndata:test1\n\nid:test\ndata:test2\n",
        events=(message("test1"),),
        last_event_id="",
        retry=1000,
    ),
    Vector(
        name="data field parsing: empty value, no colon, repeated data lines",
        source="wpt eventsource/format-field-data.any.js (resources/message.py)",
        stream=b"data:\n\ndata\ndata\n\ndata:test" + TAIL,
        events=(message(""), message("\n"), message("test")),
        last_event_id="",
    ),
    Vector(
        name="event field whose value is one space gives the default type",
        source="wpt eventsource/format-field-event-empty.any.js (resources/message.py)",
        stream=b"event: \ndata:data" + TAIL,
        events=(message("data"),),
        last_event_id="",
    ),
    Vector(
        name="custom event type applies to its own block only",
        source="wpt eventsource/format-field-event.any.js (resources/message.py)",
        stream=b"event:test\ndata:x\n\ndata:x" + TAIL,
        events=(Expected("test", "x", ""), message("x")),
        last_event_id="",
    ),
    Vector(
        name="non-ASCII id sets lastEventId and the Last-Event-ID to send",
        source=(
            "wpt eventsource/format-field-id.any.js and format-field-id-2.any.js"
            " (resources/last-event-id.py)"
        ),
        stream=_hello(ELLIPSIS.encode()),
        events=(message("hello", ELLIPSIS),),
        last_event_id=ELLIPSIS,
        retry=200,
    ),
    _id_null(b"\x00\x00"),
    _id_null(b"x\x00"),
    _id_null(b"\x00x"),
    _id_null(b"x\x00x"),
    _id_null(b" \x00"),
    Vector(
        name="lastEventId persists over blocks without id and changes with a new id",
        source="wpt eventsource/format-field-id-3.window.js (resources/last-event-id2.py type=1)",
        stream=b"id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n",
        events=(message("1", "1"), message("2", "1"), message("3", "2"), message("4", "2")),
        last_event_id="2",
    ),
    Vector(
        name="id: with an empty value resets lastEventId",
        source="wpt eventsource/format-field-id-3.window.js (resources/last-event-id2.py type=2)",
        stream=b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
        events=(message("1", "1"), message("2"), message("3")),
        last_event_id="",
    ),
    Vector(
        name="id without a colon resets lastEventId",
        source="wpt eventsource/format-field-id-3.window.js (resources/last-event-id2.py type=3)",
        stream=b"id: 1\ndata: 1\n\nid\ndata:2\n\ndata:3\n\n",
        events=(message("1", "1"), message("2"), message("3")),
        last_event_id="",
    ),
    Vector(
        name="field parsing: case, NUL in names, dashes, no colon, leading space",
        source="wpt eventsource/format-field-parsing.any.js (resources/message.py, newline=none)",
        stream=(
            b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\r"
            b"data_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n"
        ),
        events=(message("\x00\n 2\n1\n3\n\n4"),),
        last_event_id="",
    ),
    Vector(
        name="retry with a leading zero is decimal",
        source="wpt eventsource/format-field-retry.any.js (resources/message.py)",
        stream=b"retry:03000\ndata:x" + TAIL,
        events=(message("x"),),
        last_event_id="",
        retry=3000,
    ),
    Vector(
        name="bogus retry leaves the previous valid one",
        source="wpt eventsource/format-field-retry-bogus.any.js (resources/message.py)",
        stream=b"retry:3000\nretry:1000x\ndata:x" + TAIL,
        events=(message("x"),),
        last_event_id="",
        retry=3000,
    ),
    Vector(
        name="retry with no colon (empty value) is ignored",
        source="wpt eventsource/format-field-retry-empty.any.js (resources/message.py)",
        stream=b"retry\ndata:test" + TAIL,
        events=(message("test"),),
        last_event_id="",
    ),
    Vector(
        name="unknown fields, a leading-space field name and bare text are ignored",
        source="wpt eventsource/format-field-unknown.any.js (resources/message.py)",
        stream=(
            b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test"
            + TAIL
        ),
        events=(message("test\n\ntest"),),
        last_event_id="",
    ),
    Vector(
        name="only a space is stripped after the colon, not a tab",
        source="wpt eventsource/format-leading-space.any.js (resources/message.py)",
        stream=b"data:\ttest\rdata: \ndata:test" + TAIL,
        events=(message("\ttest\n\ntest"),),
        last_event_id="",
    ),
    Vector(
        name="newline fest: CRLF, LF and a CRLF blank line",
        source="wpt eventsource/format-newlines.any.js (resources/message.py, newline=none)",
        stream=b"data:test\r\ndata\ndata:test\r\n\r\n",
        events=(message("test\n\ntest"),),
        last_event_id="",
    ),
    Vector(
        name="NUL in data is kept",
        source="wpt eventsource/format-null-character.any.js (resources/message.py)",
        stream=b"data:\x00\n\n" + TAIL,
        events=(message("\x00"),),
        last_event_id="",
    ),
    Vector(
        name="always UTF-8, whatever charset the Content-Type names",
        source="wpt eventsource/format-utf-8.any.js (resources/message.py, charset=windows-1252)",
        stream=b"data:ok\xe2\x80\xa6" + TAIL,
        events=(message("ok\u2026"),),
        last_event_id="",
    ),
    Vector(
        name="lines and data parsing: comment, unknown fields, capitalised Data",
        source="wpt eventsource/event-data.any.js (resources/message2.py, one loop iteration)",
        stream=(
            b"data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\n"
            b"data\n\ndata:end\n\n"
        ),
        events=(message("msg\nmsg"), message(""), message("end")),
        last_event_id="",
    ),
    Vector(
        name="message.py default body",
        source="wpt eventsource/eventsource-onmessage.any.js (resources/message.py)",
        stream=b"data: data" + TAIL,
        events=(message("data"),),
        last_event_id="",
    ),
    Vector(
        name="CORS-safe id is reported back",
        source=(
            "wpt eventsource/eventsource-cross-origin-preflight.window.js"
            " (resources/cors-unsafe-last-event-id.py fixture=safe)"
        ),
        stream=b"id: abc\nretry: 200\ndata: safe\n\n",
        events=(message("safe", "abc"),),
        last_event_id="abc",
        retry=200,
    ),
    Vector(
        name="a 255-character id is kept whole",
        source=(
            "wpt eventsource/eventsource-cross-origin-preflight.window.js"
            " (resources/cors-unsafe-last-event-id.py fixture=long)"
        ),
        stream=b"id: " + LONG_ID.encode() + b"\nretry: 200\ndata: long\n\n",
        events=(message("long", LONG_ID),),
        last_event_id=LONG_ID,
        retry=200,
    ),
    # ---- wpt eventsource/eventsource-from-readable-stream.any.js (string fixtures) ----
    Vector(
        name="readable stream: custom event type",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=b"event: custom\ndata: hello\n\n",
        events=(Expected("custom", "hello", ""),),
        last_event_id="",
    ),
    Vector(
        name="readable stream: id updates lastEventId",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=b"id: 42\ndata: hello\n\n",
        events=(message("hello", "42"),),
        last_event_id="42",
    ),
    Vector(
        name="readable stream: retry sets the reconnection time",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=b"retry: 5000\ndata: hello\n\n",
        events=(message("hello"),),
        last_event_id="",
        retry=5000,
    ),
    Vector(
        name="readable stream: non-digit retry ignored",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=b"retry: bogus\ndata: hello\n\n",
        events=(message("hello"),),
        last_event_id="",
    ),
    Vector(
        name="readable stream: CR, LF and CRLF line endings",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=b"data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n",
        events=(message("cr"), message("lf"), message("crlf")),
        last_event_id="",
    ),
    Vector(
        name="readable stream: leading BOM stripped",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=BOM + b"data: hello\n\n",
        events=(message("hello"),),
        last_event_id="",
    ),
    Vector(
        name="readable stream: id persists into the next piped stream",
        source="wpt eventsource/eventsource-from-readable-stream.any.js (two streams piped)",
        stream=b"id: 42\ndata: first\n\ndata: after-reconnect\n\n",
        events=(message("first", "42"), message("after-reconnect", "42")),
        last_event_id="42",
    ),
    Vector(
        name="readable stream: empty stream dispatches nothing",
        source="wpt eventsource/eventsource-from-readable-stream.any.js",
        stream=b"",
        events=(),
        last_event_id="",
    ),
    # ---- WHATWG HTML examples ----
    Vector(
        name="introduction: three messages, one of two lines",
        source="WHATWG HTML 9.2.1 introduction, first example",
        stream=(
            b"data: This is the first message.\n\n"
            b"data: This is the second message, it\ndata: has two lines.\n\n"
            b"data: This is the third message.\n\n"
        ),
        events=(
            message("This is the first message."),
            message("This is the second message, it\nhas two lines."),
            message("This is the third message."),
        ),
        last_event_id="",
    ),
    Vector(
        name="introduction: add and remove event types",
        source="WHATWG HTML 9.2.1 introduction, second example",
        stream=(
            b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\n"
            b"event: add\ndata: 113411\n\n"
        ),
        events=(
            Expected("add", "73857293", ""),
            Expected("remove", "2153", ""),
            Expected("add", "113411", ""),
        ),
        last_event_id="",
    ),
    Vector(
        name="YHOO: data lines joined with LF",
        source="WHATWG HTML 9.2.6 example 1",
        stream=b"data: YHOO\ndata: +2\ndata: 10\n\n",
        events=(message("YHOO\n+2\n10"),),
        last_event_id="",
    ),
    Vector(
        name="four blocks: comment, id 1, id reset, two leading spaces",
        source="WHATWG HTML 9.2.6 example 2 (followed by its blank line)",
        stream=(
            b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
            b"data:  third event\n\n"
        ),
        events=(message("first event", "1"), message("second event"), message(" third event")),
        last_event_id="",
    ),
    Vector(
        name="four blocks without the final blank line: the last is not dispatched",
        source="WHATWG HTML 9.2.6 example 2 (end of stream is not enough to dispatch)",
        stream=(
            b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
            b"data:  third event\n"
        ),
        events=(message("first event", "1"), message("second event")),
        last_event_id="",
    ),
    Vector(
        name="data with no colon: two events, the unterminated last block discarded",
        source="WHATWG HTML 9.2.6 example 3",
        stream=b"data\n\ndata\ndata\n\ndata:",
        events=(message(""), message("\n")),
        last_event_id="",
    ),
    Vector(
        name="one space after the colon is ignored: two identical events",
        source="WHATWG HTML 9.2.6 example 4",
        stream=b"data:test\n\ndata: test\n\n",
        events=(message("test"), message("test")),
        last_event_id="",
    ),
    Vector(
        name="keep-alive comment lines dispatch nothing and do not split a block",
        source="WHATWG HTML 9.2.7 authoring notes (comment every 15 seconds or so)",
        stream=b":\n\n: keep-alive\n\ndata: first\n: keep-alive\ndata: second\n\n",
        events=(message("first\nsecond"),),
        last_event_id="",
    ),
    # ---- our own edge cases of the 9.2.6 algorithm ----
    Vector(
        name="id-only block sets the last event ID without dispatching",
        source=SPEC,
        stream=b"id: 7\n\n",
        events=(),
        last_event_id="7",
    ),
    Vector(
        name="id from an id-only block reaches the next event",
        source=SPEC,
        stream=b"id: 7\n\ndata: x\n\n",
        events=(message("x", "7"),),
        last_event_id="7",
    ),
    Vector(
        name="id inside the unfinished final block does not count",
        source=SPEC,
        stream=b"id: 1\ndata: a\n\nid: 2\ndata: b\n",
        events=(message("a", "1"),),
        last_event_id="1",
    ),
    Vector(
        name="id with no colon resets the id to the empty string",
        source=SPEC,
        stream=b"id: 1\n\nid\ndata: x\n\n",
        events=(message("x"),),
        last_event_id="",
    ),
    Vector(
        name="NUL inside id ignores the field and keeps the previous id",
        source=SPEC,
        stream=b"id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n",
        events=(message("a", "1"), message("b", "1")),
        last_event_id="1",
    ),
    Vector(
        name="id keeps inner and trailing spaces; only one leading space goes",
        source=SPEC,
        stream=b"id:  a b \ndata: x\n\n",
        events=(message("x", " a b "),),
        last_event_id=" a b ",
    ),
    Vector(
        name="stream ending in CR CR dispatches (the second CR is a blank line)",
        source=SPEC,
        stream=b"data: x\r\r",
        events=(message("x"),),
        last_event_id="",
    ),
    Vector(
        name="mixed CRLF, CR and LF line ends",
        source=SPEC,
        stream=b"event: e\r\ndata: a\rdata: b\n\r\ndata: c\r\n\n",
        events=(Expected("e", "a\nb", ""), message("c")),
        last_event_id="",
    ),
    Vector(
        name="LF then CR is two line ends (the CR is a blank line)",
        source=SPEC,
        stream=b"data: a\n\rdata: b\n\n",
        events=(message("a"), message("b")),
        last_event_id="",
    ),
    Vector(
        name="blank lines, a comment and a late BOM only: nothing dispatched",
        source=SPEC,
        stream=b"\n\r\n\r:\n" + BOM + b"data: x\n\n",
        events=(),
        last_event_id="",
    ),
    Vector(
        name="multi-byte UTF-8 in data",
        source=SPEC,
        stream="data: é € 😀\n\n".encode(),
        events=(message("é € 😀"),),
        last_event_id="",
    ),
    Vector(
        name="multi-byte UTF-8 in event type and id",
        source=SPEC,
        stream="event: café\nid: €1\ndata: 😀\n\n".encode(),
        events=(Expected("café", "😀", "€1"),),
        last_event_id="€1",
    ),
    Vector(
        name="invalid UTF-8 byte becomes U+FFFD",
        source=SPEC,
        stream=b"data: a\xffb\n\n",
        events=(message("a\ufffdb"),),
        last_event_id="",
    ),
    Vector(
        name="truncated UTF-8 sequences before a line end become one U+FFFD each",
        source=SPEC,
        stream=b"data: \xe2\x82\ndata: \xf0\x9f\x98\n\n",
        events=(message("\ufffd\n\ufffd"),),
        last_event_id="",
    ),
    Vector(
        name="lone continuation byte and overlong lead byte each become U+FFFD",
        source=SPEC,
        stream=b"data: \x80\xc0\xaf\n\n",
        events=(message("\ufffd\ufffd\ufffd"),),
        last_event_id="",
    ),
    Vector(
        name="data with no colon gives an empty data line",
        source=SPEC,
        stream=b"data\ndata: x\n\n",
        events=(message("\nx"),),
        last_event_id="",
    ),
    Vector(
        name="two data lines join with LF; only one trailing LF is removed",
        source=SPEC,
        stream=b"data:a\ndata:b\n\ndata: c\ndata:\n\n",
        events=(message("a\nb"), message("c\n")),
        last_event_id="",
    ),
    Vector(
        name="colon in the value is kept; a space before the colon makes another field",
        source=SPEC,
        stream=b"data : ignored\ndata: a: b\n\n",
        events=(message("a: b"),),
        last_event_id="",
    ),
    Vector(
        name="event: with an empty value gives type message",
        source=SPEC,
        stream=b"event:\ndata: x\n\n",
        events=(message("x"),),
        last_event_id="",
    ),
    Vector(
        name="event type of a block without data does not leak into the next",
        source=SPEC,
        stream=b"event: a\n\ndata: x\n\n",
        events=(message("x"),),
        last_event_id="",
    ),
    Vector(
        name="NUL inside data is kept",
        source=SPEC,
        stream=b"data: a\x00b\n\n",
        events=(message("a\x00b"),),
        last_event_id="",
    ),
    Vector(
        name="retry values that are not all ASCII digits are ignored",
        source=SPEC,
        stream=(
            b"retry: 1000\nretry: 12a\nretry: -5\nretry: +5\nretry: 1.5\nretry: 1e3\n"
            b"retry: 1000 \nretry:\ndata: x\n\n"
        ),
        events=(message("x"),),
        last_event_id="",
        retry=1000,
    ),
    Vector(
        name="retry with two spaces keeps one, so it is not all digits and is ignored",
        source=SPEC,
        stream=b"retry:  1000\ndata: x\n\n",
        events=(message("x"),),
        last_event_id="",
    ),
    Vector(
        name="retry: 0 is valid",
        source=SPEC,
        stream=b"retry: 2000\nretry: 0\n\n",
        events=(),
        last_event_id="",
        retry=0,
    ),
    Vector(
        name="retry takes effect when its line ends, even in an unfinished block",
        source=SPEC,
        stream=b"data: x\nretry: 2500\nretry: 99",
        events=(),
        last_event_id="",
        retry=2500,
    ),
)
