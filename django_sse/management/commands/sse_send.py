from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any, TextIO

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from django_sse import publish
from django_sse.conf import conf

FLUSH_TIMEOUT = 10.0  # seconds to wait for the ring before the command returns


def _line_end_stripped(text: str) -> str:
    """``echo`` and heredocs end with a newline nobody means to send."""
    return text.removesuffix("\n").removesuffix("\r")


def _by_pk(value: str) -> Any:
    model = get_user_model()
    try:
        pk = model._meta.pk.to_python(value)
    except ValidationError:
        return None
    return model._default_manager.filter(pk=pk).first()


def find_user(value: str) -> Any:
    """The user whose primary key or username is ``value``; refuse ambiguity."""
    model = get_user_model()
    by_pk = _by_pk(value)
    by_name = model._default_manager.filter(**{model.USERNAME_FIELD: value}).first()
    if by_pk is not None and by_name is not None and by_pk != by_name:
        raise CommandError(f"{value!r} is the primary key of one user and the username of another.")
    user = by_pk or by_name
    if user is None:
        raise CommandError(f"No user with primary key or username {value!r}.")
    return user


class Command(BaseCommand):
    help = (
        "Publish one event to a user, a topic or everyone, and print its sequence number. "
        "DATA is sent as text (or parsed first with --json); '-' reads it from stdin."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: ArgumentParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", metavar="PK_OR_USERNAME", help="one user's stream")
        target.add_argument("--topic", metavar="NAME", help="the stream of ?topic=NAME")
        target.add_argument("--broadcast", action="store_true", help="everyone")
        parser.add_argument("--event", default="message", help="event name (default: message)")
        parser.add_argument(
            "--ephemeral", action="store_true", help="live only: not stored, no replay"
        )
        parser.add_argument("--json", action="store_true", help="parse DATA as JSON")
        parser.add_argument("data", metavar="DATA", help="the event's data, or - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        stdin: TextIO = options.get("stdin") or sys.stdin
        data = self._data(options["data"], stdin, options["json"])
        persist = not options["ephemeral"]
        try:
            seq = self._send(options, data, persist)
        except (TypeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if not publish.flush(FLUSH_TIMEOUT):
            late = "The channel layer did not take the ring in time."
            self.stderr.write(late, self.style.WARNING)
        self._warn_if_in_memory(persist)
        if seq is not None:
            self.stdout.write(str(seq))

    def _data(self, value: str, stdin: TextIO, as_json: bool) -> object:
        text = _line_end_stripped(stdin.read()) if value == "-" else value
        if not as_json:
            return text
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CommandError(f"DATA is not valid JSON: {exc}") from exc

    def _send(self, options: dict[str, Any], data: object, persist: bool) -> int | None:
        event = options["event"]
        if options["user"] is not None:
            user = find_user(options["user"])
            return publish.send_to_user(user, data, event=event, persist=persist)
        if options["topic"] is not None:
            return publish.send_to_stream(options["topic"], data, event=event, persist=persist)
        return publish.broadcast(data, event=event, persist=persist)

    def _warn_if_in_memory(self, persist: bool) -> None:
        if not isinstance(get_channel_layer(conf.SSE_CHANNEL_LAYER), InMemoryChannelLayer):
            return
        if persist:
            self.stderr.write(
                "The in-memory channel layer does not reach the server processes: their "
                f"streams read this event from the log within {conf.SSE_RESYNC_INTERVAL:g} s "
                "(SSE_RESYNC_INTERVAL).",
                self.style.WARNING,
            )
        else:
            self.stderr.write(
                "The in-memory channel layer does not reach the server processes: this "
                "ephemeral event reached no one.",
                self.style.WARNING,
            )
