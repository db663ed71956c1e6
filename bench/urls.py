"""django-sse's stream endpoint plus bench-only views: publish inside the server, stats."""

from __future__ import annotations

import threading

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

import django_sse
from bench.memory_views import memory
from bench.payload import EVENT, PublishRequest
from django_sse.delivery.hub import get_hub


@csrf_exempt
async def publish(request: HttpRequest) -> HttpResponse:
    """POST ``{"count", "i", "warm"}``: that many broadcasts, back to back."""
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        ask = PublishRequest.parse(request.body)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    seq = None
    for k in range(ask.count):
        seq = await django_sse.abroadcast(ask.payload(k), event=EVENT)
    return JsonResponse({"published": ask.count, "seq": seq})


async def stats(request: HttpRequest) -> HttpResponse:
    """The hub's counters of this process, and its thread count."""
    return JsonResponse({**get_hub().stats(), "threads": threading.active_count()})


urlpatterns = [
    path("events/", include("django_sse.urls")),
    path("bench/publish/", publish),
    path("bench/stats/", stats),
    path("bench/memory/", memory),
]
