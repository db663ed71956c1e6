"""The demo's room: who is here (presence, with join and leave events), a kick that
takes the room out of one user's open streams at once (revocation) and keeps them out
for a while (the authorizer), and a token for a client without the session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

import django_sse
from demo_project.models import Kick
from demo_project.views import render_page
from django_sse import presence
from django_sse.auth import default_authorize

ROOM = "room"  # the topic
KICK_FOR = timedelta(seconds=30)
TOKEN_MAX_AGE = 900  # seconds the page's token is good for


def authorize(user: Any, stream: str) -> bool:
    """The default, plus the room for logged-in users who were not kicked lately."""
    if stream == f"topic:{ROOM}":
        if not user.is_authenticated:
            return False
        return not Kick.objects.filter(user=user, until__gt=timezone.now()).exists()
    return default_authorize(user, stream)


@login_required
def room(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.order_by("username")
    names = {str(u.pk): u.get_username() for u in users}
    kicked = Kick.objects.filter(user=request.user, until__gt=timezone.now()).first()
    here = [names.get(str(pk), str(pk)) for pk in presence.users(f"topic:{ROOM}")]
    token = django_sse.subscription_token(request.user, [ROOM], max_age=TOKEN_MAX_AGE)
    stream_url = request.build_absolute_uri(f"/events/?topic={ROOM}&token={token}")
    return render_page(
        request,
        "room.html",
        room=ROOM,
        kicked=kicked,
        here=here,
        names=names,
        others=[u for u in users if u.pk != request.user.pk],
        stream_url=stream_url,
        token_minutes=TOKEN_MAX_AGE // 60,
    )


@require_POST
@login_required
def kick(request: HttpRequest) -> HttpResponse:
    """Keep someone out of the room for a while: out of their open tabs at once."""
    who = get_user_model().objects.filter(username=request.POST.get("who", "")).first()
    if who is not None and who.pk != request.user.pk:
        Kick.objects.update_or_create(user=who, defaults={"until": timezone.now() + KICK_FOR})
        django_sse.revoke(who, ROOM)  # after the commit: the authorizer already says no
    return redirect("room")
