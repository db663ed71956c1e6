"""The publisher loop of a process outside a server: one thread, fork, exit."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
import warnings

import pytest

import django_sse
from django_sse.delivery import ring_loop
from django_sse.delivery.ringer import ringer_for
from tests.ringkit import RecordingLayer
from tests.services import Backend, finish, need, redis_available


def publisher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "django-sse-publisher"]


def test_many_publishes_share_one_thread_and_one_loop(layer: RecordingLayer) -> None:
    before = threading.active_count()
    for i in range(100):
        django_sse.send_to_stream("one-loop", i, persist=False)
    assert django_sse.flush(5.0)
    assert len(layer.rings) == 100
    assert len(publisher_threads()) == 1
    assert threading.active_count() <= before + 1


def test_a_forked_child_publishes_on_a_loop_of_its_own(layer: RecordingLayer) -> None:
    django_sse.broadcast("parent", persist=False)
    assert django_sse.flush(5.0)
    parent_loop = ring_loop._loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads: ours
        pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        ok = False
        try:
            django_sse.broadcast("child", persist=False)
            ok = django_sse.flush(5.0) and ring_loop._loop is not parent_loop
            ok = ok and [f for *_, f in layer.rings][-1] == b"data: child\n\n"
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [f for *_, f in layer.rings] == [b"data: parent\n\n"]  # the child's is its own


def test_stop_sends_what_is_queued_then_ends_the_thread(layer: RecordingLayer) -> None:
    for i in range(20):
        django_sse.send_to_stream("stopping", i, persist=False)
    ring_loop.stop()
    assert len(layer.rings) == 20
    assert publisher_threads() == []
    django_sse.send_to_stream("stopping", "again", persist=False)  # starts a new one
    assert django_sse.flush(5.0)
    assert len(layer.rings) == 21


async def test_flush_refuses_to_block_the_loop_that_sends(layer: RecordingLayer) -> None:
    ringer_for(asyncio.get_running_loop())  # as a hub's loop has one
    with pytest.raises(RuntimeError, match="would block the loop"):
        django_sse.flush()


@pytest.mark.redis
async def test_a_worker_process_rings_everything_before_it_exits(
    sqlite_backend: Backend, redis_layer: str
) -> None:
    from channels_redis.core import RedisChannelLayer

    need("Redis", redis_available())
    prefix = redis_layer.partition(":")[2]
    layer = RedisChannelLayer(hosts=[{"address": "redis://127.0.0.1:6379/0"}], prefix=prefix)
    topic = f"exit-{uuid.uuid4().hex[:6]}"
    channel = await layer.new_channel()
    await layer.group_add(f"sse.topic.{topic}", channel)
    process = sqlite_backend.with_layer(redis_layer).publisher("topic", topic, 300, "exit")
    seqs = await asyncio.to_thread(finish, process, 60)
    assert seqs == list(range(1, 301))
    got: list[int] = []
    async with asyncio.timeout(10):
        while len(got) < 300:
            message = await layer.receive(channel)
            if message["type"] == "sse.event":
                got.append(message["seq"])
            else:
                got += [seq for _, seq, _ in message["items"]]
    assert got == seqs
    await layer.flush()
