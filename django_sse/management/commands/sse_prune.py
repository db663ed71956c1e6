from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_sse.models import prune


class Command(BaseCommand):
    help = "Delete events older than SSE_EVENT_TTL or beyond SSE_MAX_EVENTS_PER_STREAM."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = prune()
        self.stdout.write(f"Deleted {deleted} events.")
