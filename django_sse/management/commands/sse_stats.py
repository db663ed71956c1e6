from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count, Max, Min
from django.utils import timezone

from django_sse.models import Event, Stream

HEADER = ("stream", "head", "stored", "oldest", "newest")


@dataclass(frozen=True)
class StreamStats:
    name: str
    head: int | None
    stored: int
    oldest: datetime | None
    newest: datetime | None


def stream_stats() -> list[StreamStats]:
    """Every stream of the log, by name: head seq, events stored, oldest and newest."""
    events = Event.objects.order_by().values("stream")
    counted = events.annotate(count=Count("pk"), oldest=Min("created"), newest=Max("created"))
    stored = {row["stream"]: (row["count"], row["oldest"], row["newest"]) for row in counted}
    return [
        StreamStats(name, head, *stored.get(name, (0, None, None)))
        for name, head in Stream.objects.order_by("name").values_list("name", "seq")
    ]


def total(stats: list[StreamStats]) -> StreamStats:
    oldest = [s.oldest for s in stats if s.oldest is not None]
    newest = [s.newest for s in stats if s.newest is not None]
    return StreamStats(
        "total",
        None,
        sum(s.stored for s in stats),
        min(oldest, default=None),
        max(newest, default=None),
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.isoformat(sep=" ", timespec="seconds")


def _cells(stats: StreamStats) -> tuple[str, ...]:
    head = "" if stats.head is None else str(stats.head)
    return (stats.name, head, str(stats.stored), _when(stats.oldest), _when(stats.newest))


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Names and dates left-aligned, numbers right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in (1, 2) else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


class Command(BaseCommand):
    help = (
        "Show each stream of the event log: head sequence number, events stored, oldest and "
        "newest, and the totals. It reads the database only: the live side (open "
        "connections, hub counters) belongs to each server process and a command cannot "
        "reach it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stats = stream_stats()
        if not stats:
            self.stdout.write("The event log is empty.")
            return
        rows = [HEADER, *(_cells(s) for s in stats), _cells(total(stats))]
        for line in table(rows):
            self.stdout.write(line)
