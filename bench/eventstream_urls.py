"""django-eventstream's endpoint on one channel, and the bench's publish view."""

from __future__ import annotations

import django_eventstream  # type: ignore[import-not-found,import-untyped,unused-ignore]
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from bench.payload import EVENT, PublishRequest

CHANNEL = "broadcast"


@csrf_exempt
def publish(request: HttpRequest) -> HttpResponse:
    """A sync view, as ``send_event`` is sync: stores each event, then wakes listeners."""
    try:
        ask = PublishRequest.parse(request.body)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    for k in range(ask.count):
        django_eventstream.send_event(CHANNEL, EVENT, ask.payload(k))
    return JsonResponse({"published": ask.count})


urlpatterns = [
    path("events/", include("django_eventstream.urls"), {"channels": [CHANNEL]}),
    path("bench/publish/", publish),
]
