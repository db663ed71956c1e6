"""The management commands: sse_send publishes from the shell, sse_stats reads the log."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_sse.models import Event, Stream, append, read_after

pytestmark = pytest.mark.django_db(transaction=True)


class RecordingLayer:
    """A channel layer backend that records what it is asked to send."""

    def __init__(self, **config: Any) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.sent.append((group, message))


RECORDING = {"default": {"BACKEND": "tests.test_commands.RecordingLayer"}}


def run(name: str, *args: str, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def send(*args: str, stdin: str = "") -> str:
    """sse_send on a layer that reaches the servers: only the seq is printed."""
    with override_settings(CHANNEL_LAYERS=RECORDING):
        out, err = run("sse_send", *args, stdin=io.StringIO(stdin))
    assert err == ""
    return out


def stored(stream: str) -> list[tuple[int, str, str]]:
    return read_after(stream, 0, 100)


# sse_send ----------------------------------------------------------------------------


def test_send_broadcast_prints_the_seq_and_rings() -> None:
    with override_settings(CHANNEL_LAYERS=RECORDING):
        assert run("sse_send", "--broadcast", "hello") == ("1\n", "")
        layer = get_channel_layer()
    assert stored("broadcast") == [(1, "message", "hello")]
    ((group, message),) = layer.sent
    assert isinstance(message.pop("at"), float)  # when it was handed to the layer
    assert (group, message) == (
        "sse.broadcast",
        {"type": "sse.event", "stream": "broadcast", "seq": 1, "frame": b"data: hello\n\n"},
    )


def test_send_to_a_user_by_primary_key_or_username() -> None:
    user = User.objects.create(username="alice")
    assert send("--user", str(user.pk), "by pk") == "1\n"
    assert send("--user", "alice", "by name") == "2\n"
    assert stored(f"user:{user.pk}") == [(1, "message", "by pk"), (2, "message", "by name")]


def test_send_to_a_topic_with_an_event_name_and_json() -> None:
    assert send("--topic", "orders", "--event", "order", "--json", '{"id": 7}') == "1\n"
    assert stored("topic:orders") == [(1, "order", '{"id":7}')]


def test_send_reads_data_from_stdin_without_its_final_newline() -> None:
    assert send("--broadcast", "-", stdin="<li>one</li>\n<li>two</li>\n") == "1\n"
    assert stored("broadcast") == [(1, "message", "<li>one</li>\n<li>two</li>")]


def test_send_reads_json_from_stdin() -> None:
    assert send("--broadcast", "--json", "-", stdin='["a", 1]\r\n') == "1\n"
    assert stored("broadcast") == [(1, "message", '["a",1]')]


def test_send_ephemeral_prints_nothing_and_stores_nothing() -> None:
    with override_settings(CHANNEL_LAYERS=RECORDING):
        assert run("sse_send", "--broadcast", "--ephemeral", "typing") == ("", "")
        layer = get_channel_layer()
    assert Event.objects.count() == 0
    assert [message["seq"] for _, message in layer.sent] == [None]


def test_send_on_the_in_memory_layer_warns_the_servers_read_the_log() -> None:
    assert run("sse_send", "--broadcast", "hello") == (
        "1\n",
        "The in-memory channel layer does not reach the server processes: their streams "
        "read this event from the log within 10 s (SSE_RESYNC_INTERVAL).\n",
    )


def test_send_ephemeral_on_the_in_memory_layer_warns_it_reached_no_one() -> None:
    assert run("sse_send", "--broadcast", "--ephemeral", "typing") == (
        "",
        "The in-memory channel layer does not reach the server processes: this ephemeral "
        "event reached no one.\n",
    )


def test_send_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match=r"^No user with primary key or username 'bob'\.$"):
        send("--user", "bob", "x")
    assert Event.objects.count() == 0


def test_send_refuses_a_key_that_names_two_users() -> None:
    first = User.objects.create(username="first")
    User.objects.create(username=str(first.pk))
    with pytest.raises(
        CommandError,
        match=rf"^'{first.pk}' is the primary key of one user and the username of another\.$",
    ):
        send("--user", str(first.pk), "x")
    assert Event.objects.count() == 0


def test_send_refuses_a_bad_topic_name() -> None:
    with pytest.raises(
        CommandError,
        match=r"^invalid topic name 'no spaces': use 1 to 80 characters from A-Z, a-z, 0-9, "
        r"'\.', '_' and '-'$",
    ):
        send("--topic", "no spaces", "x")
    assert Event.objects.count() == 0


def test_send_refuses_a_bad_event_name() -> None:
    with pytest.raises(CommandError, match=r"^event name must not contain CR, LF or NUL: 'a\\nb'$"):
        send("--broadcast", "--event", "a\nb", "x")
    assert Event.objects.count() == 0


def test_send_refuses_invalid_json() -> None:
    with pytest.raises(
        CommandError,
        match=r"^DATA is not valid JSON: Expecting property name enclosed in double quotes: "
        r"line 1 column 2 \(char 1\)$",
    ):
        send("--broadcast", "--json", "{oops}")
    assert Event.objects.count() == 0


def test_send_refuses_no_target() -> None:
    with pytest.raises(
        CommandError,
        match=r"^Error: one of the arguments --user --topic --broadcast is required$",
    ):
        send("x")


def test_send_refuses_two_targets() -> None:
    with pytest.raises(
        CommandError,
        match=r"^Error: argument --topic: not allowed with argument --broadcast$",
    ):
        send("--broadcast", "--topic", "orders", "x")


# sse_stats ---------------------------------------------------------------------------


def at(day: int, minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 1, day, 9, minute, 5, tzinfo=datetime.UTC)


def test_stats_on_an_empty_log() -> None:
    assert run("sse_stats") == ("The event log is empty.\n", "")


@override_settings(TIME_ZONE="UTC")
def test_stats_shows_each_stream_and_the_totals() -> None:
    for when, stream in [(at(2, 0), "broadcast"), (at(2, 30), "broadcast"), (at(3, 1), "topic:o")]:
        seq = append(stream, "message", "x")
        Event.objects.filter(stream=stream, seq=seq).update(created=when)
    Stream.objects.create(name="topic:pruned", seq=70)
    assert run("sse_stats") == (
        "stream        head  stored  oldest                     newest\n"
        "broadcast        2       2  2026-01-02 09:00:05+00:00  2026-01-02 09:30:05+00:00\n"
        "topic:o          1       1  2026-01-03 09:01:05+00:00  2026-01-03 09:01:05+00:00\n"
        "topic:pruned    70       0  -                          -\n"
        "total                    3  2026-01-02 09:00:05+00:00  2026-01-03 09:01:05+00:00\n",
        "",
    )


@override_settings(TIME_ZONE="Europe/Paris")
def test_stats_shows_times_in_the_current_time_zone() -> None:
    seq = append("broadcast", "message", "x")
    Event.objects.filter(seq=seq).update(created=at(2, 0))
    out, _ = run("sse_stats")
    assert out.splitlines()[1] == (
        "broadcast     1       1  2026-01-02 10:00:05+01:00  2026-01-02 10:00:05+01:00"
    )
