"""Live revocation: stop a topic's delivery to a user (or to everyone) now, on every
process, without closing their other streams.

A revocation is a note to the topic's group: every hub that serves the topic takes it
out of the matching connections at once (within the layer's latency), writes them
``sse:revoked`` (``{"stream", "topic"}``) and never delivers or replays that topic on
them again. django-sse.js then reconnects without the topic, keeping its place in the
others. Change what ``SSE_AUTHORIZE`` answers first (in the same transaction: the note
leaves on commit): a reconnect that still asks for the topic is authorized again and
refused.
"""

from __future__ import annotations

from django_sse.delivery.hub import REVOKE_TYPE
from django_sse.delivery.ringer import Note
from django_sse.outgoing import user_pk
from django_sse.publish import check_sync_context, queue, queue_on_commit
from django_sse.streams import group_name, topic_stream

EVERYONE = object()  # revoke_topic(): every connection, of any user or none


def _note(topic: str, user_or_pk: object) -> Note:
    stream = topic_stream(topic)
    user = "" if user_or_pk is EVERYONE else str(user_pk(user_or_pk)[0])
    return Note(group_name(stream), {"type": REVOKE_TYPE, "stream": stream, "user": user})


def revoke(user_or_pk: object, topic: str) -> None:
    """End ``topic``'s delivery to the connections of one user (a user or primary key),
    on every process; their other streams go on. ``ValueError`` for an invalid topic
    name or user, as :func:`~django_sse.send_to_stream` and
    :func:`~django_sse.send_to_user` refuse them."""
    check_sync_context()
    queue_on_commit([_note(topic, user_or_pk)])


def revoke_topic(topic: str) -> None:
    """End ``topic``'s delivery to every connection that follows it, on every process."""
    check_sync_context()
    queue_on_commit([_note(topic, EVERYONE)])


async def arevoke(user_or_pk: object, topic: str) -> None:
    """Async twin of :func:`revoke`."""
    queue([_note(topic, user_or_pk)])


async def arevoke_topic(topic: str) -> None:
    """Async twin of :func:`revoke_topic`."""
    queue([_note(topic, EVERYONE)])
