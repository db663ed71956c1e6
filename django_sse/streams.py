"""Stream names and their channel-layer group names.

A stream is ``user:<pk>``, ``broadcast`` or ``topic:<name>``. Group names on a
channel layer allow only ``[a-zA-Z0-9._-]`` and fewer than 100 characters, so
every stream maps to ``sse.<kind>.<name>``; the kind prefixes keep the mapping
one-to-one.
"""

from __future__ import annotations

import hashlib
import re

from django_sse.conf import conf

BROADCAST = "broadcast"
TOPIC_PREFIX = "topic:"  # a topic's stream is TOPIC_PREFIX + its name
HUBS_GROUP = "sse.hubs"  # every hub joins it: a batch on many streams goes there once
TOPIC_MAX_LENGTH = 80  # characters: "sse.topic." + 80 stays under 100
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a str, not {type(name).__name__}")
    if not name or len(name) > TOPIC_MAX_LENGTH or not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid {kind} name {name!r}: use 1 to {TOPIC_MAX_LENGTH} "
            "characters from A-Z, a-z, 0-9, '.', '_' and '-'"
        )
    return name


def topic_stream(topic: object) -> str:
    """The stream name of a topic, after validating the topic name."""
    return TOPIC_PREFIX + _check_name("topic", topic)


def user_stream(pk: object) -> str:
    """The stream name of a user's private stream."""
    if pk is None or isinstance(pk, bool):
        raise ValueError(f"invalid user primary key: {pk!r}")
    return "user:" + _check_name("user primary key", str(pk))


def check_stream(stream: object) -> str:
    """``stream`` if it is a stream name this package could have made, else ``ValueError``."""
    if not isinstance(stream, str):
        raise TypeError(f"stream name must be a str, not {type(stream).__name__}")
    kind, sep, name = stream.partition(":")
    if stream == BROADCAST:
        return stream
    if sep and kind == "topic":
        return topic_stream(name)
    if sep and kind == "user":
        return user_stream(name)
    raise ValueError(
        f"invalid stream name {stream!r}: use 'broadcast', 'topic:<name>' or 'user:<pk>'"
    )


def user_pk_of(stream: str) -> str | None:
    """The primary key (as text) of a ``user:<pk>`` stream, else None."""
    kind, _, name = stream.partition(":")
    return name if kind == "user" else None


def group_name(stream: str) -> str:
    """The channel-layer group that rings for ``stream``."""
    return "sse." + stream.replace(":", ".", 1)


def streams_for(user: object, topics: list[str]) -> list[str]:
    """The sorted streams of a connection: broadcast, the user's own, the topics.

    ``ValueError`` for a bad topic name or more than ``SSE_MAX_TOPICS`` topics.
    Authorization is separate (``django_sse.auth``).
    """
    if len(topics) > conf.SSE_MAX_TOPICS:
        raise ValueError(f"at most {conf.SSE_MAX_TOPICS} topics per connection")
    streams = {BROADCAST, *(topic_stream(t) for t in topics)}
    if getattr(user, "is_authenticated", False):
        streams.add(user_stream(user.pk))  # type: ignore[attr-defined]
    return sorted(streams)


def session_key(request: object) -> str | None:
    """The request's session key, or None (no session middleware, or no session yet)."""
    return getattr(getattr(request, "session", None), "session_key", None)


def session_digest(session_key: str) -> str:
    """What the channel layer carries instead of a session key (a secret)."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:24]
