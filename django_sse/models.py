"""The durable log: one row per persistent event, dense ``seq`` per stream.

``Stream`` holds each stream's head. Publishing updates the head row first
(taking its row lock, or SQLite's write lock) and inserts the event in the same
transaction, so sequence numbers are handed out and committed in order: once
``seq = n`` is visible, every ``seq < n`` of that stream is visible too, and a
rolled-back transaction gives its number back.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from django_sse.conf import conf
from django_sse.signals import log_pruned

EVENT_NAME_MAX_LENGTH = 200  # characters
PRUNE_EVERY = 64  # prune a stream's old rows once in this many publishes
PRUNE_BATCH = 5000  # rows one DELETE of `prune()` removes: short locks, no long transaction


class Stream(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"


class Event(models.Model):
    stream = models.CharField(max_length=100)
    seq = models.BigIntegerField()
    event = models.CharField(max_length=EVENT_NAME_MAX_LENGTH, default="message")
    data = models.TextField()
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="django_sse_stream_seq")
        ]
        ordering = ["stream", "seq"]

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq} {self.event}"


class PresenceProcess(models.Model):
    """A server process that writes presence, alive until ``expires`` (it renews it)."""

    name = models.CharField(max_length=64, primary_key=True)  # host:pid:random
    expires = models.DateTimeField(db_index=True)
    renewed = models.DateTimeField(null=True)
    started = models.DateTimeField(default=timezone.now)
    # Its hub's live picture at the last renewal (django_sse.delivery.live.snapshot).
    stats = models.JSONField(default=dict)

    class Meta:
        verbose_name = "server process"

    def __str__(self) -> str:
        return f"{self.name} until {self.expires:%H:%M:%S}"


class Presence(models.Model):
    """One stream of one open connection, on one server process.

    Written by the hubs only when ``SSE_PRESENCE_TTL`` is set (``django_sse.presence``
    reads it). A row counts while its process's :class:`PresenceProcess` has not
    expired: a process that dies without a word drops out with its one row.
    """

    connection = models.CharField(max_length=64)
    stream = models.CharField(max_length=100)
    user_pk = models.CharField(max_length=64, blank=True)  # "" for an anonymous connection
    process = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "stream"], name="django_sse_presence_once"
            )
        ]
        indexes = [
            models.Index(fields=["stream"], name="django_sse_presence_stream"),
            models.Index(fields=["user_pk"], name="django_sse_presence_user"),
            models.Index(fields=["process"], name="django_sse_presence_process"),
        ]

    def __str__(self) -> str:
        return f"{self.user_pk or 'anonymous'} on {self.stream} ({self.process})"


def live_presence(rows: models.QuerySet[Presence] | None = None) -> models.QuerySet[Presence]:
    """``rows`` (every presence row by default) of the processes that renewed in time."""
    alive = PresenceProcess.objects.filter(expires__gt=timezone.now()).values("name")
    return (Presence.objects.all() if rows is None else rows).filter(process__in=alive)


def bump(stream: str, by: int = 1) -> int:
    """Move the head of ``stream`` on by ``by`` (in the caller's transaction); the new head.

    The portable way, for databases without upsert ``RETURNING``
    (``django_sse.store`` takes one statement where the database allows).
    """
    heads = Stream.objects.filter(name=stream)
    if not heads.update(seq=F("seq") + by):
        Stream.objects.bulk_create([Stream(name=stream, seq=0)], ignore_conflicts=True)
        heads.update(seq=F("seq") + by)
    return heads.values_list("seq", flat=True).get()


def append(stream: str, event: str, data: str) -> int:
    """Store one event at the next sequence number of ``stream``; return it (portable)."""
    with transaction.atomic():
        seq = bump(stream)
        Event.objects.create(stream=stream, seq=seq, event=event, data=data)
        if seq % PRUNE_EVERY == 0:
            prune_stream(stream, seq)
    return seq


def prune_stream(stream: str, head: int) -> int:
    cutoff = timezone.now() - timedelta(seconds=conf.SSE_EVENT_TTL)
    keep_from = head - conf.SSE_MAX_EVENTS_PER_STREAM
    old = Q(seq__lte=keep_from) | Q(created__lt=cutoff)
    deleted, _ = Event.objects.filter(old, stream=stream).delete()
    return deleted


def _delete_in_batches(rows: models.QuerySet[Event]) -> int:
    deleted = 0
    while batch := list(rows.values_list("pk", flat=True)[:PRUNE_BATCH]):
        deleted += Event.objects.filter(pk__in=batch).delete()[0]
    return deleted


def prune() -> int:
    """Apply ``SSE_EVENT_TTL`` and ``SSE_MAX_EVENTS_PER_STREAM`` to every stream.

    Batched, each batch its own transaction, so publishers never wait long.
    """
    cutoff = timezone.now() - timedelta(seconds=conf.SSE_EVENT_TTL)
    deleted = _delete_in_batches(Event.objects.filter(created__lt=cutoff))
    over = Stream.objects.filter(seq__gt=conf.SSE_MAX_EVENTS_PER_STREAM)
    for name, head in over.values_list("name", "seq").iterator():
        deleted += prune_stream(name, head)
    log_pruned.send(sender=Event, deleted=deleted)
    return deleted


def read_heads(streams: list[str]) -> dict[str, int]:
    """The last sequence number of each stream (0 for a stream never written)."""
    found = dict(Stream.objects.filter(name__in=streams).values_list("name", "seq"))
    return {name: found.get(name, 0) for name in streams}


def read_after(stream: str, after: int, limit: int) -> list[tuple[int, str, str]]:
    """Up to ``limit`` events of ``stream`` with ``seq > after``, in order."""
    rows = Event.objects.filter(stream=stream, seq__gt=after).order_by("seq")
    return list(rows.values_list("seq", "event", "data")[:limit])
