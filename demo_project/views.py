"""The demo's pages: notifications, a live feed, a page to watch recovery, and
HTML fragments swapped in by htmx (the progress demos are in progress_views).

Forms work as plain POSTs; demo.js submits them with ``fetch`` (asking for
JSON) so the page stays open and the result arrives as an event.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from demo_project import models
from demo_project.models import CARD_EVENT, Notification, Post


def render_page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    # Nothing is read here: the template reads the querysets (and calls
    # unread_ids) after {% sse_script %} in <head> has taken its cursor, so no
    # event falls between the page and the stream; demo.js skips the overlap.
    unread = Notification.objects.filter(recipient=request.user, read=False)
    unread_ids = cache(lambda: list(unread.values_list("pk", flat=True)))
    return render(request, template, {"unread_ids": unread_ids, **context})


def _done(request: HttpRequest, to: str, error: str = "") -> HttpResponse:
    if request.headers.get("Accept") == "application/json":
        if error:
            return JsonResponse({"error": error}, status=400)
        return JsonResponse({"ok": True})
    if error:
        messages.error(request, error)
    return redirect(to)


def _text(request: HttpRequest) -> str:
    return request.POST.get("text", "").strip()[: models.TEXT_MAX_LENGTH]


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(recipient=request.user).select_related("sender")
    others = get_user_model().objects.exclude(username=request.user.get_username())
    users = others.order_by("username")
    return render_page(request, "index.html", notifications=mine[:30], users=users)


@require_POST
@login_required
def notify(request: HttpRequest) -> HttpResponse:
    to = get_user_model().objects.filter(username=request.POST.get("to", "")).first()
    text = _text(request)
    if to is None or not text:
        return _done(request, "index", "Choose someone and write a message.")
    models.notify(request.user, to, text)
    return _done(request, "index")


@require_POST
@login_required
def mark_read(request: HttpRequest) -> HttpResponse:
    models.mark_all_read(request.user)
    return _done(request, "index")


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render_page(request, "feed.html", posts=Post.objects.select_related("author")[:30])
    text = _text(request)
    if not text:
        return _done(request, "feed", "Write something first.")
    models.post_to_feed(request.user, text)
    return _done(request, "feed")


@login_required
def recovery(request: HttpRequest) -> HttpResponse:
    return render_page(request, "recovery.html")


@login_required
def htmx_page(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.order_by("username")
    return render_page(request, "htmx.html", users=users, card_event=CARD_EVENT)


@require_POST
@login_required
def htmx_send(request: HttpRequest) -> HttpResponse:
    """Render a card and send it, as HTML, to every tab of its recipient."""
    to = get_user_model().objects.filter(username=request.POST.get("to", "")).first()
    text = _text(request)
    if to is None or not text:
        return HttpResponse("Choose someone and write a message.", status=400)
    models.send_card(request.user, to, text)
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204)  # the card arrives by the stream, not in this answer
    return redirect("htmx")
