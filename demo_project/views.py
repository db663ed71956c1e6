from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from django_sse import broadcast, send_to_user


def index(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.order_by("username")
    return render(request, "index.html", {"users": users})


@require_POST
@login_required
def post_feed(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("text", "").strip()[:500]
    if text:
        broadcast({"author": request.user.get_username(), "text": text}, event="feed")
    return redirect("index")


@require_POST
@login_required
def notify(request: HttpRequest) -> HttpResponse:
    to = get_user_model().objects.filter(username=request.POST.get("to", "")).first()
    text = request.POST.get("text", "").strip()[:500]
    if to is not None and text:
        payload = {"from": request.user.get_username(), "text": text}
        send_to_user(to, payload, event="notification")
    return redirect("index")
