"""Test-only views: log in, publish inside the server, read the hub's counters."""

from __future__ import annotations

import json
import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model, login
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
    StreamingHttpResponse,
)
from django.views.decorators.csrf import csrf_exempt

import django_sse
from django_sse.delivery.hub import get_hub
from django_sse.models import prune as prune_log


def login_as(request: HttpRequest, username: str) -> JsonResponse:
    root = username.startswith("root")  # a superuser: the admin's pages
    user, _ = get_user_model().objects.get_or_create(
        username=username,
        defaults={"is_staff": root or username.startswith("vip"), "is_superuser": root},
    )
    login(request, user)
    return JsonResponse({"pk": user.pk})


def _publish_sync(spec: dict[str, Any]) -> int | None:
    kwargs = {"event": spec.get("event", "message"), "persist": spec.get("persist", True)}
    data = spec["data"]
    if spec["kind"] == "user":
        return django_sse.send_to_user(spec["target"], data, **kwargs)
    if spec["kind"] == "topic":
        return django_sse.send_to_stream(spec["target"], data, **kwargs)
    return django_sse.broadcast(data, **kwargs)


async def _publish_async(spec: dict[str, Any]) -> int | None:
    kwargs = {"event": spec.get("event", "message"), "persist": spec.get("persist", True)}
    data = spec["data"]
    if spec["kind"] == "user":
        return await django_sse.asend_to_user(spec["target"], data, **kwargs)
    if spec["kind"] == "topic":
        return await django_sse.asend_to_stream(spec["target"], data, **kwargs)
    return await django_sse.abroadcast(data, **kwargs)


def _publish_in_thread(spec: dict[str, Any]) -> int | None:
    """From a plain thread, as a task-queue worker inside the process would."""
    result: list[int | None] = []
    thread = threading.Thread(target=lambda: result.append(_publish_sync(spec)))
    thread.start()
    thread.join()
    return result[0]


@csrf_exempt
async def publish(request: HttpRequest) -> JsonResponse:
    """POST a list of publish specs; ``mode`` is sync, async or thread."""
    specs = json.loads(request.body)
    seqs = []
    for spec in specs:
        mode = spec.get("mode", "async")
        if mode == "async":
            seqs.append(await _publish_async(spec))
        elif mode == "thread":
            seqs.append(await sync_to_async(_publish_in_thread, thread_sensitive=False)(spec))
        else:
            seqs.append(await sync_to_async(_publish_sync)(spec))
    return JsonResponse({"seqs": seqs})


async def hub(request: HttpRequest) -> JsonResponse:
    from tests.server.asgi import application  # the server's handler, imported by now

    fast_path = application.fast_path  # streams served without Django's thread hops
    return JsonResponse({**get_hub().stats(), "fast_path": fast_path and fast_path.requests})


async def presence(request: HttpRequest) -> JsonResponse:
    """What ``django_sse.presence`` answers in this process, for ``?stream=``."""
    from django_sse import presence as who

    stream = request.GET["stream"]
    users, count = await who.ausers(stream), await who.aconnections(stream)
    return JsonResponse({"users": users, "connections": count})


@csrf_exempt
def prune(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"deleted": prune_log()})


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's ``handler403``: the endpoint's refusals come through it."""
    return HttpResponseForbidden(str(exception))


def chunks(request: HttpRequest) -> StreamingHttpResponse:
    """An ordinary page in three body chunks (not an event stream)."""
    return StreamingHttpResponse(iter([b"one,", b"two,", b"three"]), content_type="text/plain")


def token(request: HttpRequest) -> JsonResponse:
    """A subscription token of the logged-in user for ``?topic=``, ``?max_age=`` seconds;
    ``?password=`` sets the user's password first (it ends the tokens minted before)."""
    user: Any = request.user
    if request.GET.get("password"):
        user.set_password(request.GET["password"])
        user.save()
        return JsonResponse({})
    max_age = float(request.GET["max_age"]) if "max_age" in request.GET else None
    minted = django_sse.subscription_token(user, request.GET.getlist("topic"), max_age=max_age)
    return JsonResponse({"token": minted})


@csrf_exempt
async def revoke(request: HttpRequest) -> JsonResponse:
    """POST ``{"topic": name, "user": pk or null}``: revoke it (sync, as a view would)."""
    spec = json.loads(request.body)
    if spec.get("user") is None:
        await sync_to_async(django_sse.revoke_topic)(spec["topic"])
    else:
        await sync_to_async(django_sse.revoke)(spec["user"], spec["topic"])
    return JsonResponse({})
