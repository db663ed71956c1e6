"""Health endpoints for load balancers and Kubernetes probes.

``live``: the process's event loop answers (nothing else is looked at: a liveness probe
that fails restarts the process, so it must not fail for a database outage).
``ready``: this process can serve streams now: the database answers ``SELECT 1`` on one
of the stream's database threads, the hub hears its own pings through the channel layer
(the proof the keepalive already uses), and the process is not draining for a shutdown.
Both answer in milliseconds, open no stream and need no login; a probe that finds the
hub not started starts it, as the first stream would, and waits up to ``FIRST_PONG``
for its first ping.
"""

from __future__ import annotations

import asyncio
import time

from django.db import DatabaseError, connections, router
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from django_sse import models
from django_sse.delivery.db import run_db
from django_sse.delivery.hub import get_hub
from django_sse.delivery.keepalive import PING_INTERVAL, PINGS_LOST

DATABASE_TIMEOUT = 2.0  # seconds the database may take to answer SELECT 1
FIRST_PONG = 3.0  # seconds a hub just started may take to hear its first ping
PONG_AGE = (PINGS_LOST + 1) * PING_INTERVAL  # seconds since the last ping heard: still fine


def _select_one() -> None:
    with connections[router.db_for_read(models.Event)].cursor() as cursor:
        cursor.execute("SELECT 1")


async def _database() -> str:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            await run_db(_select_one)
    except TimeoutError:
        return f"no answer within {DATABASE_TIMEOUT:g} s"
    except DatabaseError as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return "ok"


async def _layer() -> str:
    hub = get_hub()
    try:
        async with asyncio.timeout(FIRST_PONG):
            await hub.start()
            while hub.keepalive.answered_at == 0.0:  # started just now: its first ping
                await asyncio.sleep(0.05)
    except TimeoutError:
        return f"the hub heard none of its pings within {FIRST_PONG:g} s"
    except Exception as exc:  # the layer refused to give a channel
        return f"{type(exc).__name__}: {exc}".strip()
    if hub.draining:
        return "draining for a shutdown"
    silent = time.monotonic() - hub.keepalive.answered_at
    if silent > PONG_AGE:
        return f"the hub heard none of its pings for {silent:.1f} s"
    return "ok"


@csrf_exempt  # so that a POST gets the precise answer, 405, not CSRF's 403
@never_cache
@require_safe
async def live(request: HttpRequest) -> JsonResponse:
    """200 while the process's event loop answers."""
    return JsonResponse({"status": "live"})


@csrf_exempt
@never_cache
@require_safe
async def ready(request: HttpRequest) -> JsonResponse:
    """200 with every check ``ok``, else 503 naming what failed."""
    database, layer = await asyncio.gather(_database(), _layer())
    checks = {"database": database, "layer": layer}
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503
    )
