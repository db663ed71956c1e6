"""What a publisher hands in, checked and encoded before anything is stored.

Every refusal happens here, before a row is written or a ring is sent: a bad
event name, data that cannot be encoded, an event over ``SSE_MAX_EVENT_SIZE``,
a stream name that is not one of ours, a user that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from django_sse import models
from django_sse.conf import conf
from django_sse.streams import BROADCAST, check_stream, topic_stream, user_stream
from django_sse.wire import check_event_name, encode_data, encode_event

RESERVED_PREFIX = "sse:"  # django-sse's own events (sse:reset) and the client's DOM events
PK_QUERY_CHUNK = 500  # primary keys per existence query (SQLite allows 999 parameters)
NAMED_IN_ERROR = 5  # unknown users named in one error message


def check_event(event: str) -> None:
    check_event_name(event)
    if event.startswith(RESERVED_PREFIX):
        raise ValueError(f"event names starting with {RESERVED_PREFIX!r} are reserved: {event!r}")
    if len(event) > models.EVENT_NAME_MAX_LENGTH:
        raise ValueError(f"event name longer than {models.EVENT_NAME_MAX_LENGTH}")


def prepare(data: object, event: str) -> tuple[str, bytes]:
    """The stored text and the encoded frame (without ``id:``) of one event."""
    check_event(event)
    text = encode_data(data)
    try:
        frame = encode_event(text, event)
    except UnicodeEncodeError as exc:
        raise ValueError(f"event data is not valid Unicode text: {exc}") from exc
    if len(frame) > conf.SSE_MAX_EVENT_SIZE:
        raise ValueError(
            f"event is {len(frame)} bytes encoded; SSE_MAX_EVENT_SIZE allows "
            f"{conf.SSE_MAX_EVENT_SIZE}"
        )
    return text, frame


# Users ------------------------------------------------------------------------


class UnknownUser(ValueError):
    """A user (or several) to send to does not exist; ``pks`` names them."""

    def __init__(self, pks: list[object]) -> None:
        self.pks = pks
        named = ", ".join(repr(pk) for pk in pks[:NAMED_IN_ERROR])
        more = f" (and {len(pks) - NAMED_IN_ERROR} more)" if len(pks) > NAMED_IN_ERROR else ""
        noun = "user with primary key" if len(pks) == 1 else "users with primary keys"
        super().__init__(f"no {noun} {named}{more}")


def user_pk(user_or_pk: object) -> tuple[object, bool]:
    """The user's primary key in its Python type, and whether it must be checked to exist.

    A user instance is trusted (it was loaded or saved); a bare primary key is
    normalised (``"5"`` and ``5`` are one user) and checked by :func:`check_users`.
    """
    user_model = get_user_model()
    if isinstance(user_or_pk, user_model):
        if user_or_pk.pk is None:
            raise ValueError("cannot send to an unsaved user")
        return user_or_pk.pk, False
    if getattr(user_or_pk, "is_anonymous", False) is True:
        raise ValueError("cannot send to an anonymous user")
    if user_or_pk is None or isinstance(user_or_pk, bool):
        raise ValueError(f"invalid user or primary key: {user_or_pk!r}")
    assert user_model._meta.pk is not None
    try:
        pk = user_model._meta.pk.to_python(user_or_pk)
    except ValidationError as exc:
        raise UnknownUser([user_or_pk]) from exc
    user_stream(pk)  # refuses a key that cannot name a stream
    return pk, True


def check_users(pks: Iterable[object]) -> None:
    """Raise :class:`UnknownUser` naming every primary key with no user behind it."""
    wanted = list(dict.fromkeys(pks))
    manager = get_user_model()._default_manager
    found: set[object] = set()
    for start in range(0, len(wanted), PK_QUERY_CHUNK):
        chunk = wanted[start : start + PK_QUERY_CHUNK]
        found.update(manager.filter(pk__in=chunk).values_list("pk", flat=True))  # type: ignore[misc]
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise UnknownUser(missing)


# Messages for the bulk API --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One event for :func:`django_sse.publish_many`: a stream, data and an event name.

    Build it with :meth:`to_user`, :meth:`to_topic` or :meth:`to_everyone`, or
    name the stream directly (``"user:<pk>"``, ``"topic:<name>"``, ``"broadcast"``).
    """

    stream: str
    data: object
    event: str = "message"

    def __post_init__(self) -> None:
        check_stream(self.stream)
        check_event(self.event)

    @classmethod
    def to_user(cls, user_or_pk: object, data: object, *, event: str = "message") -> Message:
        pk, _ = user_pk(user_or_pk)
        return cls(user_stream(pk), data, event)

    @classmethod
    def to_topic(cls, name: str, data: object, *, event: str = "message") -> Message:
        return cls(topic_stream(name), data, event)

    @classmethod
    def to_everyone(cls, data: object, *, event: str = "message") -> Message:
        return cls(BROADCAST, data, event)
