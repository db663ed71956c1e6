"""The ringer: batches, the group every hub joins, order, overflow, and the hub's side."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import django_sse
from django_sse.delivery import ringer
from django_sse.delivery.hub import BATCH_TYPE, Hub
from django_sse.delivery.ringer import Note, Ring, Ringer, messages
from django_sse.wire import encode_event
from tests.hubkit import collect, store
from tests.ringkit import RecordingLayer


def rings(stream: str, *seqs: int | None) -> list[Ring]:
    return [Ring(stream, seq, f"data: {seq}\n\n".encode()) for seq in seqs]


def test_one_event_is_one_plain_ring_to_its_stream() -> None:
    ((group, message, carried),) = messages(rings("topic:a", 1))
    assert group == "sse.topic.a"
    assert message == {"type": "sse.event", "stream": "topic:a", "seq": 1, "frame": b"data: 1\n\n"}
    assert carried == rings("topic:a", 1)


def test_events_of_a_few_streams_go_one_message_per_stream_in_order() -> None:
    out = messages([*rings("topic:a", 1, 2), *rings("broadcast", 7), *rings("topic:b", 3)])
    assert [(g, m["type"]) for g, m, _ in out] == [
        ("sse.topic.a", BATCH_TYPE),
        ("sse.broadcast", "sse.event"),
        ("sse.topic.b", "sse.event"),
    ]
    assert out[0][1]["items"] == [("topic:a", 1, 0), ("topic:a", 2, 1)]


def test_a_batch_that_comes_back_to_a_stream_goes_to_every_hub_in_its_order() -> None:
    batch = [*rings("topic:a", 1), *rings("broadcast", 7), *rings("topic:a", 2)]
    ((group, message, _),) = messages(batch)
    assert group == "sse.hubs"
    assert [(s, q) for s, q, _ in message["items"]] == [
        ("topic:a", 1),
        ("broadcast", 7),
        ("topic:a", 2),
    ]


def test_events_of_many_streams_go_once_to_every_hub_with_shared_frames() -> None:
    frame = encode_event("same")
    batch = [Ring(f"user:{i}", 1, frame) for i in range(ringer.FAN_IN_STREAMS + 1)]
    ((group, message, carried),) = messages(batch)
    assert group == "sse.hubs"
    assert message["frames"] == [frame]
    assert [i for _, _, i in message["items"]] == [0] * len(batch)
    assert carried == batch


def test_big_batches_are_split_and_notes_travel_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ringer, "BATCH_BYTES", 20)
    note = Note("sse.user.1", {"type": "sse.close", "stream": "user:1", "session": ""})
    out = messages([note, *rings("topic:a", 1, 2, 3)])  # 10 bytes a frame: two a message
    assert [(g, len(c)) for g, _, c in out] == [
        ("sse.user.1", 1),
        ("sse.topic.a", 2),
        ("sse.topic.a", 1),
    ]


def test_rings_of_one_publisher_leave_in_its_order(layer: RecordingLayer) -> None:
    def publish(tag: str) -> None:
        for i in range(200):
            django_sse.send_to_stream("order", f"{tag}{i}", persist=False)

    threads = [threading.Thread(target=publish, args=(t,)) for t in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    frames = [f for *_, f in layer.rings]
    assert len(frames) == 800
    for tag in "abcd":
        mine = [f for f in frames if f.startswith(f"data: {tag}".encode())]
        assert mine == [f"data: {tag}{i}\n\n".encode() for i in range(200)]


def test_overflow_drops_the_oldest_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ringer, "MAX_QUEUED", 5)
    loop = asyncio.new_event_loop()  # never run: nothing leaves
    try:
        r = Ringer(loop)
        with caplog.at_level(logging.WARNING, "django_sse.publish"):
            r.put(rings("topic:o", None, None, None, None, None, None, None))
        assert caplog.messages == [
            "2 ephemeral event(s) on topic:o dropped: too many rings waiting"
        ]
        assert not r.wait(0.01)
    finally:
        loop.close()


def test_a_closed_loop_loses_its_rings_loudly(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    with caplog.at_level(logging.ERROR, "django_sse.publish"):
        Ringer(loop).put(rings("topic:c", 4))
    assert "the publisher loop has stopped" in caplog.messages[0]


@pytest.mark.django_db(transaction=True)
async def test_hub_delivers_a_batch_to_its_streams_and_repairs_a_gap(hub: Hub) -> None:
    a = await hub.subscribe(["topic:a"], 100)
    b = await hub.subscribe(["topic:b"], 100)
    await store("topic:a", "a1", "a2")
    await store("topic:b", "b1", "b2")
    frames = [encode_event("a1"), encode_event("a2"), encode_event("b2")]
    items = [("topic:a", 1, 0), ("topic:a", 2, 1), ("topic:b", 2, 2), ("topic:none", 1, 0)]
    await hub.layer.group_send("sse.hubs", {"type": BATCH_TYPE, "frames": frames, "items": items})
    assert [f[1:] for f in await collect(a, 2)] == [(1, b"data: a1\n\n"), (2, b"data: a2\n\n")]
    assert [f[1:] for f in await collect(b, 2)] == [(1, b"data: b1\n\n"), (2, b"data: b2\n\n")]
    assert "sse.hubs" in hub.layer.group_adds


def test_one_publisher_keeps_its_order_across_streams(layer: RecordingLayer) -> None:
    streams = ["a", "b", "c"]
    for i in range(300):
        django_sse.send_to_stream(streams[i % 3], i, persist=False)
    assert [f for *_, f in layer.rings] == [f"data: {i}\n\n".encode() for i in range(300)]
