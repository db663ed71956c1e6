"""Both event-stream parsers against the web-platform-tests and WHATWG vectors.

The Python parser behind ``django_sse.testing`` and django-sse.js's ``createParser``
(in real Chromium) read every vector of ``tests/sse_vectors.py`` whole, one byte at a
time, and cut in two at every position (so inside UTF-8 characters and between CR
and LF too), and must give the vector's events, last event id and retry each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_sse.testing import _Parser
from tests.browser_fixtures import browser_fixture  # noqa: F401 - a fixture
from tests.sse_vectors import VECTORS, Vector
from tests.test_js_parser import PARSE, page_fixture  # noqa: F401 - a fixture

Outcome = dict[str, Any]


def expected(vector: Vector) -> Outcome:
    return {
        "events": [list(event) for event in vector.events],
        "lastEventId": vector.last_event_id,
        "retry": vector.retry,
    }


def cuts(stream: bytes) -> Iterator[list[bytes]]:
    yield [stream]
    yield [stream[i : i + 1] for i in range(len(stream))]
    for i in range(len(stream) + 1):
        yield [stream[:i], stream[i:]]


def python_parse(chunks: list[bytes]) -> Outcome:
    parser = _Parser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    parser.end()
    return {
        "events": [[e.event, e.data, e.id] for e in events],
        "lastEventId": parser.last_id,
        "retry": parser.retry,
    }


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_the_python_parser_reads_each_vector_however_it_is_cut(vector: Vector) -> None:
    want = expected(vector)
    for chunks in cuts(vector.stream):
        assert python_parse(chunks) == want, (vector.source, chunks)


def test_the_vectors_cover_the_suite() -> None:
    sources = {v.source.split(" (")[0] for v in VECTORS}
    for name in ("bom", "comments", "field-data", "field-event", "field-id-null", "utf-8"):
        assert f"wpt eventsource/format-{name}.any.js" in sources or any(
            f"format-{name}." in s for s in sources
        )
    assert len({v.name for v in VECTORS}) == len(VECTORS)


# The same in Chromium: every cut of one vector in one evaluate().
EVERY_CUT = (
    """(bytes) => {
  """
    + PARSE
    + """
  const all = Uint8Array.from(bytes);
  const cuts = [[all], [...all].map((b) => Uint8Array.of(b))];
  for (let i = 0; i <= all.length; i++) cuts.push([all.slice(0, i), all.slice(i)]);
  const results = cuts.map(parse);
  const whole = results[0];
  const differ = results.filter((r) => JSON.stringify(r) !== JSON.stringify(whole));
  return {whole, differ: differ.slice(0, 2), cuts: cuts.length};
}"""
)


@pytest.mark.e2e
@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_the_js_parser_reads_each_vector_however_it_is_cut(page: Any, vector: Vector) -> None:
    outcome = page.evaluate(EVERY_CUT, list(vector.stream))
    assert outcome["whole"] == expected(vector), vector.source
    assert outcome["differ"] == []
    assert outcome["cuts"] == len(vector.stream) + 3
