"""django-sse.js's parser in real Chromium, fed every vector of SSE_SPEC.md cut at
every pair of chunk boundaries (so also inside a CRLF and inside a UTF-8 character)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_fixtures import browser_fixture  # noqa: F401 - a fixture

JS_FILE = Path(__file__).resolve().parent.parent / "django_sse/static/django_sse/django-sse.js"

# Parse `bytes` whole, then cut at every pair of boundaries (i <= j), byte by
# byte, and as one string: the result of every cut must equal the whole's.
# Feed `chunks` to a new parser and end the stream: what came out.
PARSE = """const parse = (chunks) => {
    const events = [];
    const parser = djangoSSE.createParser((e) => events.push([e.type, e.data, e.lastEventId]));
    for (const chunk of chunks) parser.feed(chunk);
    parser.end();
    return {events, lastEventId: parser.lastEventId, retry: parser.retry};
  };"""
SPLIT_EVERYWHERE = (
    """(bytes) => {
  """
    + PARSE
    + """
  const all = Uint8Array.from(bytes);
  const whole = parse([all]);
  const cuts = [[...all].map((b) => Uint8Array.of(b)), [new TextDecoder().decode(all)]];
  for (let i = 0; i <= all.length; i++) {
    for (let j = i; j <= all.length; j++) {
      cuts.push([all.slice(0, i), all.slice(i, j), all.slice(j)]);
    }
  }
  const differ = cuts.map((c) => [c.length, parse(c)])
    .filter(([, r]) => JSON.stringify(r) !== JSON.stringify(whole));
  return {whole, cuts: cuts.length, differ: differ.slice(0, 3)};
}"""
)


def result(events: list[tuple[str, str, str]], last_id: str = "", retry: int | None = None) -> Any:
    return {"events": [list(e) for e in events], "lastEventId": last_id, "retry": retry}


VECTORS = {
    "multi-line data": (
        b"data: YHOO\ndata: +2\ndata: 10\n\n",
        result([("message", "YHOO\n+2\n10", "")]),
    ),
    "comment, id, id reset, leading space": (
        b": c\n\ndata: first\nid: 1\n\ndata:second\nid\n\ndata:  third\n\n",
        result([("message", "first", "1"), ("message", "second", ""), ("message", " third", "")]),
    ),
    "empty data, unfinished block dropped": (
        b"data\n\ndata\ndata\n\ndata:",
        result([("message", "", ""), ("message", "\n", "")]),
    ),
    "id with NUL ignored": (b"id: a\x00b\ndata: x\n\n", result([("message", "x", "")])),
    "id without data moves the cursor": (b"id: 7\n\n", result([], "7")),
    "only digits retry": (
        b"retry: 10000\nretry: one\nretry: -5\nretry: 5 \n",
        result([], retry=10000),
    ),
    "retry: one": (b"retry: one\n", result([])),
    "retry: -5": (b"retry: -5\n", result([])),
    "retry: 5 ": (b"retry: 5 \n", result([])),
    "CR and CRLF": (b"data: a\rdata: b\r\n\n", result([("message", "a\nb", "")])),
    "CRLF, event and id": (
        b'event: add\r\nid: x.1\r\ndata: {"n": 1}\r\n\r\n',
        result([("add", '{"n": 1}', "x.1")], "x.1"),
    ),
    "lone CRs": (b"data: a\r\rdata: b\r\r", result([("message", "a", ""), ("message", "b", "")])),
    "id kept by later events": (
        b"id: 1\ndata: a\n\ndata: b\n\n",
        result([("message", "a", "1"), ("message", "b", "1")], "1"),
    ),
    "unknown fields ignored": (b"foo: bar\nevent\ndata: x\n\n", result([("message", "x", "")])),
    "UTF-8 split anywhere": (
        "data: héllo 🎉\n\n".encode(),
        result([("message", "héllo 🎉", "")]),
    ),
    "leading BOM dropped": (b"\xef\xbb\xbfdata: bom\n\n", result([("message", "bom", "")])),
}


@pytest.fixture(scope="module", name="page")
def page_fixture(browser: Any) -> Iterator[Any]:
    """A page with django-sse.js loaded (test_parsers.py shares it)."""
    page = browser.new_page()
    page.set_content("<!doctype html><title>parser</title>")
    page.add_script_tag(path=str(JS_FILE))
    yield page
    page.close()


@pytest.mark.parametrize("vector", VECTORS.values(), ids=VECTORS.keys())
def test_parser_gives_the_same_events_wherever_the_stream_is_cut(
    page: Any, vector: tuple[bytes, Any]
) -> None:
    stream, expected = vector
    outcome = page.evaluate(SPLIT_EVERYWHERE, list(stream))
    assert outcome["whole"] == expected
    assert outcome["differ"] == []
    assert outcome["cuts"] == 2 + (len(stream) + 1) * (len(stream) + 2) // 2
