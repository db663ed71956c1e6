"""The stream endpoint plus bench-only views: publish inside the server, stats, profile."""

from __future__ import annotations

import cProfile
import json
import threading

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

import django_sse
from django_sse.hub import get_hub

EVENT_NAMES = ("bench", "warmup")
_profiling: dict[str, cProfile.Profile] = {}  # dump path -> running profiler


@csrf_exempt
async def publish(request: HttpRequest) -> HttpResponse:
    """POST ``{"t": <publish time>, "i": <index>, "event": "bench"}``: broadcast it."""
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        body = json.loads(request.body)
        t, i = float(body["t"]), int(body["i"])
        event = str(body.get("event", "bench"))
    except (ValueError, KeyError, TypeError) as exc:
        return HttpResponseBadRequest(str(exc))
    if event not in EVENT_NAMES:
        return HttpResponseBadRequest("unknown event")
    seq = await django_sse.abroadcast({"t": t, "i": i}, event=event)
    return JsonResponse({"seq": seq})


async def stats(request: HttpRequest) -> HttpResponse:
    """The hub's counters of this process, and its thread count."""
    return JsonResponse({**get_hub().stats(), "threads": threading.active_count()})


@csrf_exempt
async def profile(request: HttpRequest) -> HttpResponse:
    """POST ``{"path": FILE}`` profiles the event loop's thread; POST ``{}`` dumps to FILE."""
    path_to = json.loads(request.body or b"{}").get("path")
    if path_to and not _profiling:
        profiler = cProfile.Profile()
        _profiling[str(path_to)] = profiler
        profiler.enable()
    elif not path_to:
        for dump_path, profiler in list(_profiling.items()):
            profiler.disable()
            profiler.dump_stats(dump_path)
            del _profiling[dump_path]
    return JsonResponse({"profiling": bool(_profiling)})


urlpatterns = [
    path("events/", include("django_sse.urls")),
    path("bench/publish/", publish),
    path("bench/stats/", stats),
    path("bench/profile/", profile),
]
