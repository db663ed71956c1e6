from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from django_sse.admin_live import picture
from django_sse.delivery.hub import running_hub
from django_sse.models import Event, Presence, PresenceProcess, live_presence
from django_sse.publish import resend

if TYPE_CHECKING:
    _EventAdminBase = admin.ModelAdmin[Event]
else:
    _EventAdminBase = admin.ModelAdmin


class ReadOnly:
    """Rows written by django-sse alone: the admin shows them, never edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StreamKindFilter(admin.SimpleListFilter):
    title = "stream kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("user", "user"), ("topic", "topic"), ("broadcast", "broadcast")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> QuerySet[Event]:
        kind = self.value()
        if kind == "broadcast":
            return queryset.filter(stream="broadcast")
        if kind in ("user", "topic"):
            return queryset.filter(stream__startswith=kind + ":")
        return queryset


@admin.register(Event)
class EventAdmin(ReadOnly, _EventAdminBase):
    """The log, read-only: events are written by the publish API alone."""

    list_display = ["stream", "seq", "event", "created"]
    list_filter = [StreamKindFilter, "event"]
    search_fields = ["=stream", "event"]
    ordering = ["-created"]
    actions = ["resend_events"]

    @admin.action(description="Send the selected events again (as new events)")
    def resend_events(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        sent = [resend(event) for event in queryset.order_by("stream", "seq")]
        self.message_user(request, f"Sent {len(sent)} events again.", messages.SUCCESS)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        hub = running_hub()
        open_here = hub.stats()["subscriptions"] if hub is not None else 0
        title = f"Events (open streams on this process: {open_here})"
        return super().changelist_view(request, {**(extra_context or {}), "title": title})


if TYPE_CHECKING:
    _PresenceAdminBase = admin.ModelAdmin[Presence]
else:
    _PresenceAdminBase = admin.ModelAdmin


@admin.register(Presence)
class PresenceAdmin(ReadOnly, _PresenceAdminBase):
    """Who is connected now (with ``SSE_PRESENCE_TTL`` set), read-only: the rows of the
    processes that renewed in time, per stream, user and server process."""

    list_display = ["stream", "user_pk", "process", "connection"]
    list_filter = ["process"]
    search_fields = ["=stream", "=user_pk"]
    ordering = ["stream", "user_pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Presence]:
        return live_presence(super().get_queryset(request))


if TYPE_CHECKING:
    _LiveAdminBase = admin.ModelAdmin[PresenceProcess]
else:
    _LiveAdminBase = admin.ModelAdmin


@admin.register(PresenceProcess)
class LiveAdmin(ReadOnly, _LiveAdminBase):
    """The live picture, read-only: server processes with their open streams and counters,
    the streams most followed, the last resets and overflows (django_sse.admin_live)."""

    change_list_template = "admin/django_sse/live.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Live: server processes, streams, resets",
            "opts": self.model._meta,
            **picture(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.change_list_template, context)
