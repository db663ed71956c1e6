"""The per-process hub: fan-out, ordering, repair from the log, layer failures."""

from __future__ import annotations

import asyncio

import pytest
from django.test import override_settings

from django_sse.delivery.hub import Hub
from django_sse.delivery.limits import LimitExceeded
from django_sse.delivery.subscription import Subscription
from django_sse.models import Event
from tests.hubkit import FlakyLayer, collect, eventually, ring, store

pytestmark = pytest.mark.django_db(transaction=True)


async def test_rings_fan_out_in_order_to_every_local_subscription(hub: Hub) -> None:
    a = await hub.subscribe(["broadcast"], 100)
    b = await hub.subscribe(["broadcast", "topic:x"], 100)
    for seq in await store("broadcast", "one", "two"):
        await ring(hub, "broadcast", seq, f"#{seq}")
    await ring(hub, "topic:x", None, "ephemeral")
    assert [f[1] for f in await collect(a, 2)] == [1, 2]
    assert [f[1:] for f in await collect(b, 3)] == [
        (1, b"data: #1\n\n"),
        (2, b"data: #2\n\n"),
        (None, b"data: ephemeral\n\n"),
    ]
    assert hub.stats()["subscriptions"] == 2
    assert [g for g in hub.layer.group_adds if g.startswith("sse.b") or g.startswith("sse.t")] == [
        "sse.broadcast",
        "sse.topic.x",
    ]


async def test_a_ring_that_jumps_ahead_is_preceded_by_the_log(hub: Hub) -> None:
    sub = await hub.subscribe(["topic:gap"], 100)
    seqs = await store("topic:gap", "a", "b", "c")
    await ring(hub, "topic:gap", seqs[-1], "c")  # the rings of a and b were lost
    await ring(hub, "topic:gap", seqs[0], "a")  # a late duplicate: dropped
    frames = await collect(sub, 3)
    assert [(seq, frame) for _, seq, frame in frames] == [
        (1, b"data: a\n\n"),
        (2, b"data: b\n\n"),
        (3, b"data: c\n\n"),
    ]
    assert hub.counters["repaired"] == 3


async def test_resync_finds_events_whose_ring_never_came(hub: Hub) -> None:
    sub = await hub.subscribe(["topic:quiet"], 100)
    await store("topic:quiet", "silent")
    await hub.resync()
    assert [f[2] for f in await collect(sub, 1)] == [b"data: silent\n\n"]


async def test_layer_outage_rejoins_groups_and_replays_from_the_log(hub: Hub) -> None:
    layer: FlakyLayer = hub.layer
    sub = await hub.subscribe(["broadcast"], 100)
    layer.go_down()
    await eventually(lambda: hub.counters["layer_failures"] >= 2)
    await store("broadcast", "during outage")
    layer.groups.clear()  # a restarted Redis forgets every group
    layer.come_up()
    await eventually(lambda: hub.counters["rejoins"] >= 1)
    assert [f[2] for f in await collect(sub, 1)] == [b"data: during outage\n\n"]
    assert layer.group_adds.count("sse.broadcast") >= 2
    (seq,) = await store("broadcast", "after")
    await ring(hub, "broadcast", seq, "after")
    assert [f[2] for f in await collect(sub, 1)] == [b"data: after\n\n"]


async def test_last_unsubscribe_leaves_the_group(hub: Hub) -> None:
    layer: FlakyLayer = hub.layer
    hub.linger = 0
    a = await hub.subscribe(["topic:t"], 10)
    b = await hub.subscribe(["topic:t"], 10)
    hub.unsubscribe(a)
    hub.unsubscribe(a)  # twice is harmless
    assert "sse.topic.t" in layer.groups
    hub.unsubscribe(b)
    await eventually(lambda: hub.stats()["leaving"] == 0)
    assert "sse.topic.t" not in layer.groups
    assert hub.stats()["subscriptions"] == hub.stats()["streams"] == 0


async def test_rejoining_right_after_leaving_keeps_the_group(hub: Hub) -> None:
    layer: FlakyLayer = hub.layer
    hub.unsubscribe(await hub.subscribe(["topic:t"], 10))
    sub = await hub.subscribe(["topic:t"], 10)
    await eventually(lambda: hub.stats()["leaving"] == 0)
    assert hub.channel in layer.groups["sse.topic.t"]
    (seq,) = await store("topic:t", "x")
    await ring(hub, "topic:t", seq, "x")
    assert len(await collect(sub, 1)) == 1


async def test_a_full_subscription_drops_its_queue_and_flags_overflow() -> None:
    sub = Subscription(("broadcast",), max_pending=2)
    for seq in (1, 2, 3, 4):
        sub.push("broadcast", seq, b"x")
    assert sub.overflowed
    assert sub.take() == []
    await sub.wait(10.0)  # returns at once: the overflow is pending
    assert sub.dropped == 0  # only persistent frames: the log has them all


async def test_an_overflow_counts_the_ephemeral_frames_it_loses() -> None:
    sub = Subscription(("broadcast",), max_pending=3)
    for seq in (None, 1, None):
        sub.push("broadcast", seq, b"x")
    sub.push("broadcast", 2, b"x")  # the fourth: the queue and its two ephemerals go
    sub.push("broadcast", None, b"x")  # while overflowed: lost too
    sub.push("broadcast", 3, b"x")
    assert (sub.overflowed, sub.dropped) == (True, 3)


async def test_group_membership_is_refreshed_before_the_layer_expires_it(hub: Hub) -> None:
    layer: FlakyLayer = hub.layer
    layer.group_expiry = 0.1  # seconds; the hub refreshes at half of it
    with override_settings(SSE_RESYNC_INTERVAL=0.02):
        await hub.subscribe(["topic:kept"], 10)
        await eventually(lambda: layer.group_adds.count("sse.topic.kept") >= 3)


async def test_close_ends_the_sessions_subscriptions_only(hub: Hub) -> None:
    mine = await hub.subscribe(["user:1"], 10, session="s1")
    other_device = await hub.subscribe(["user:1"], 10, session="s2")
    message = {"type": "sse.close", "stream": "user:1", "session": "s1"}
    await hub.layer.group_send("sse.user.1", message)
    await eventually(lambda: mine.ended == "logout")
    assert not other_device.ended
    await mine.wait(10.0)  # returns at once: the connection must end
    await hub.layer.group_send("sse.user.1", {**message, "session": ""})
    await eventually(lambda: other_device.ended == "logout")


async def test_caps_are_counted_per_key_and_given_back(hub: Hub) -> None:
    owners = [("user:1", 2), ("ip:10.0.0.1", 3)]
    first = await hub.subscribe(["broadcast"], 10, owners)
    await hub.subscribe(["broadcast"], 10, owners)
    with pytest.raises(LimitExceeded, match="too many open connections for user:1"):
        await hub.subscribe(["broadcast"], 10, owners)
    assert hub.quota.open == {"user:1": 2, "ip:10.0.0.1": 2}  # the refusal counted nothing
    hub.unsubscribe(first)
    await hub.subscribe(["broadcast"], 10, [("ip:10.0.0.1", 3)])
    assert hub.quota.open == {"user:1": 1, "ip:10.0.0.1": 2}


async def test_lost_pings_restart_the_receiver_and_rejoin(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("django_sse.delivery.keepalive.PING_INTERVAL", 0.02)
    layer: FlakyLayer = hub.layer
    sub = await hub.subscribe(["broadcast"], 10)
    await eventually(lambda: hub.keepalive._back >= 2)  # pings come back
    layer.groups.clear()  # memberships vanish silently, as on a Redis restart
    await store("broadcast", "missed while deaf")
    await eventually(lambda: hub.counters["pings_lost"] >= 1)
    assert [f[2] for f in await collect(sub, 1)] == [b"data: missed while deaf\n\n"]
    assert "sse.broadcast" in layer.groups  # rejoined


async def test_pings_dropped_while_the_receiver_is_busy_mean_a_resync_not_a_restart(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("django_sse.delivery.keepalive.PING_INTERVAL", 0.05)
    layer: FlakyLayer = hub.layer
    sub = await hub.subscribe(["broadcast"], 1000)
    await eventually(lambda: hub.keepalive._back >= 1)
    real_send = layer.group_send

    async def full_for_pings(group: str, message: dict[str, object]) -> None:
        if not group.startswith("sse.hub."):  # a full channel drops the pings only
            await real_send(group, message)

    monkeypatch.setattr(layer, "group_send", full_for_pings)
    await store("broadcast", "in the log only")  # its ring was dropped too
    while hub.counters["pings_dropped"] < 1:
        await ring(hub, "broadcast", None, "busy")  # the receiver keeps receiving
        await asyncio.sleep(0.01)
    frames = await collect(sub, 1, timeout=5)
    while not any(f[1] == 1 for f in frames):
        frames += await collect(sub, 1, timeout=5)
    assert hub.counters["pings_lost"] == 0  # no receiver restart, no rejoin


async def test_a_stream_lingers_joined_after_its_last_connection_and_keeps_its_frames(
    hub: Hub,
) -> None:
    layer: FlakyLayer = hub.layer
    hub.unsubscribe(await hub.subscribe(["topic:l"], 10))
    assert hub.stats()["streams"] == 0 and hub.stats()["lingering"] == 1
    assert hub.channel in layer.groups["sse.topic.l"]
    seqs = await store("topic:l", "a", "b")
    for seq in seqs:
        await ring(hub, "topic:l", seq, f"#{seq}")
    await eventually(lambda: hub.recent_after("topic:l", 1) == [(2, b"data: #2\n\n")])
    adds = layer.group_adds.count("sse.topic.l")
    sub = await hub.subscribe(["topic:l"], 10)  # back while it lingers: no new join
    assert layer.group_adds.count("sse.topic.l") == adds
    assert hub.positions(sub.streams) == {"topic:l": seqs[-1]}
    assert hub.recent_after("topic:l", 0) == [(1, b"data: #1\n\n"), (2, b"data: #2\n\n")]
    assert hub.recent_after("topic:l", 2) == []
    hub.linger = 0.05
    hub.unsubscribe(sub)
    await eventually(lambda: "sse.topic.l" not in layer.groups)
    assert hub.stats()["lingering"] == 0 and hub.recent_after("topic:l", 0) is None


async def test_recent_frames_start_over_when_the_hub_skips_pruned_events(hub: Hub) -> None:
    sub = await hub.subscribe(["topic:p"], 100)
    seqs = await store("topic:p", "a", "b", "c")
    await ring(hub, "topic:p", seqs[0], "a")
    await collect(sub, 1)
    await Event.objects.filter(stream="topic:p", seq__lte=2).adelete()
    await ring(hub, "topic:p", seqs[2], "c")  # jumps; the log lost b: the hub skips
    await collect(sub, 1)
    assert hub.recent_after("topic:p", 0) is None  # 1 kept, 2 never: not a run from 0
    assert hub.positions(sub.streams) == {"topic:p": 3}
