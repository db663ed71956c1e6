from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from django_sse.models import Event

if TYPE_CHECKING:
    _EventAdminBase = admin.ModelAdmin[Event]
else:
    _EventAdminBase = admin.ModelAdmin


@admin.register(Event)
class EventAdmin(_EventAdminBase):
    """The log, read-only: events are written by the publish API alone."""

    list_display = ["stream", "seq", "event", "created"]
    list_filter = ["event"]
    search_fields = ["stream"]
    ordering = ["-created"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
