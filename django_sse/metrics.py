"""Prometheus metrics, with the optional extra ``django-sse-events[metrics]``.

Without ``prometheus-client`` installed nothing here runs and nothing costs: the app
installs no hook. With it, each hub copies its in-process counters (which it keeps
anyway) into Prometheus metrics once a second, from its own loop, so a delivery costs
nothing more; publishes are counted as they ring (``event_published``). With
``PROMETHEUS_MULTIPROC_DIR`` set in the environment of every process (servers and
workers, before they start), prometheus-client's multi-process mode adds them all up
and any process's ``/metrics/`` answers for the whole machine.

The page answers Prometheus's bearer token (``SSE_METRICS_TOKEN``) or a staff user.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import weakref
from collections import Counter
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from django_sse.conf import conf
from django_sse.delivery import hub as hubs
from django_sse.signals import event_published

if TYPE_CHECKING:
    from django_sse.delivery.hub import Hub

try:
    import prometheus_client
    from prometheus_client import multiprocess
except ImportError:  # the extra is not installed
    prometheus_client = None  # type: ignore[assignment]

FLUSH_INTERVAL = 1.0  # seconds between a hub's copies of its counters
# Publish-to-delivery latency buckets, in seconds: a millisecond to half a minute.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# The hub's counter -> (metric, labels).
HUB_COUNTERS: dict[str, tuple[str, dict[str, str]]] = {
    "connects": ("sse_connects", {}),
    "disconnects": ("sse_disconnects", {}),
    "deliveries": ("sse_deliveries", {}),
    "rings": ("sse_rings_received", {}),
    "replays_memory": ("sse_replays", {"source": "memory"}),
    "replays_log": ("sse_replays", {"source": "log"}),
    "replayed_memory": ("sse_replayed_events", {"source": "memory"}),
    "replayed_log": ("sse_replayed_events", {"source": "log"}),
    "reset_invalid": ("sse_resets", {"reason": "invalid"}),
    "reset_unknown": ("sse_resets", {"reason": "unknown"}),
    "reset_expired": ("sse_resets", {"reason": "expired"}),
    "overflows": ("sse_overflows", {}),
    "repaired": ("sse_repaired_events", {}),
    "layer_failures": ("sse_layer_errors", {}),
    "rejoins": ("sse_receiver_restarts", {}),
    "refused_limit": ("sse_limit_refusals", {}),
}
HELP = {
    "sse_connects": "Streams opened",
    "sse_disconnects": "Streams closed, however they ended",
    "sse_deliveries": "Events written to streams",
    "sse_rings_received": "Events the hub received from the channel layer",
    "sse_replays": "Streams that caught up on connect, from the hub's memory or the log",
    "sse_replayed_events": "Events written to streams from the hub's memory or the log",
    "sse_resets": "sse:reset events sent, by reason",
    "sse_overflows": "Streams that fell behind and caught up from the log",
    "sse_repaired_events": "Events the hub read from the log after a gap or an outage",
    "sse_layer_errors": "Channel layer failures the hub recovered from",
    "sse_receiver_restarts": "Times the hub rejoined its groups (its pings were lost)",
    "sse_limit_refusals": "Streams refused for a per-user or per-address cap",
}


def available() -> bool:
    return prometheus_client is not None


class Metrics:
    """The metric objects, made once per process."""

    def __init__(self) -> None:
        assert prometheus_client is not None
        self.counters = {
            name: prometheus_client.Counter(
                name, text, sorted({k for m, ls in HUB_COUNTERS.values() if m == name for k in ls})
            )
            for name, text in HELP.items()
        }
        self.open = prometheus_client.Gauge(
            "sse_streams_open", "Open streams", multiprocess_mode="livesum"
        )
        self.published = prometheus_client.Counter(
            "sse_events_published", "Events published (rung)", ["persist", "bulk"]
        )
        self.latency = prometheus_client.Histogram(
            "sse_delivery_latency_seconds",
            "Age of an event message when a hub receives it: since its oldest event was "
            "handed to the layer after its commit, until the hub fans it out",
            buckets=LATENCY_BUCKETS,
        )

    def add(self, key: str, amount: int) -> None:
        name, labels = HUB_COUNTERS[key]
        counter = self.counters[name]
        (counter.labels(**labels) if labels else counter).inc(amount)


_metrics: Metrics | None = None


def _get() -> Metrics:
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


def flush(hub: Hub, copied: Counter[str]) -> None:
    """Add what ``hub`` counted since the last copy to the metrics."""
    metrics = _get()
    for key in HUB_COUNTERS:
        delta = hub.counters[key] - copied[key]
        if delta > 0:
            metrics.add(key, delta)
            copied[key] += delta
    metrics.open.set(hub.counters["connects"] - hub.counters["disconnects"])


async def _copy_forever(hub: Hub) -> None:
    copied: Counter[str] = Counter()
    _copies[hub] = copied
    hub.on_latency = _get().latency.observe
    while True:
        await asyncio.sleep(FLUSH_INTERVAL)
        flush(hub, copied)


_copies: weakref.WeakKeyDictionary[Hub, Counter[str]] = weakref.WeakKeyDictionary()


def _count_publish(sender: object, seq: int | None, bulk: bool = False, **kwargs: Any) -> None:
    persist = "true" if seq is not None else "false"
    _get().published.labels(persist=persist, bulk="true" if bulk else "false").inc()


def install() -> None:
    """Hook the metrics in (the app's ready(), when prometheus-client is installed)."""
    _get()
    if _copy_forever not in hubs.ON_OPEN:
        hubs.ON_OPEN.append(_copy_forever)
    event_published.connect(_count_publish, dispatch_uid="django_sse.metrics")


def _allowed(request: HttpRequest, user: Any) -> bool:
    token = conf.SSE_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token is not None and sent.startswith("Bearer "):
        return hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode())
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def _exposition() -> bytes:
    assert prometheus_client is not None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return prometheus_client.generate_latest(registry)
    return prometheus_client.generate_latest()


@csrf_exempt
@never_cache
@require_safe
async def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition: 404 without the extra, 403 without the token or staff."""
    if not available():
        raise Http404("metrics need prometheus-client: pip install django-sse-events[metrics]")
    user = await request.auser()
    if not _allowed(request, user):
        raise PermissionDenied("metrics: send SSE_METRICS_TOKEN as a bearer token, or be staff")
    assert prometheus_client is not None
    loop = asyncio.get_running_loop()
    for hub, copied in list(_copies.items()):  # this loop's hub, up to this moment
        if hub.loop is loop:
            flush(hub, copied)
    body = await sync_to_async(_exposition, thread_sensitive=False)()
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
