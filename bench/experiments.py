"""Reversals of core optimisations, patched in at server start to measure their gain.

Bench-only: ``DJANGO_SSE_BENCH_PATCHES=sendtimer,nolinger,...`` makes ``bench.asgi``
call :func:`apply` before it builds the handler. Each optimisation began here as a
prototype (docs/benchmarks.md); now that they are in the core, each patch puts the
old way back, so one run measures what the change buys:

- ``notimeout``: no send timeout at all (not even ``django_sse.server.watchdog``, which
  replaced ``asyncio.timeout`` around each send): what the watchdog still costs.
- ``sendtimer``, ``waittimer``: back to the timer per send (``asyncio.timeout``)
  and per wait (``call_later``) that the watchdog and the ticker replaced.
- ``nowritethrough``: every body chunk through Twisted's write path (daphne).
- ``nolinger``: a stream is left as soon as its last connection goes, so a
  reconnect storm joins again and replays from the log, not from recent frames.
- ``slowpath``: ``SSE_FAST_PATH = False``, the endpoint through Django's own request
  path, to compare with the pooled handler's fast path (done by ``bench.settings``).
- ``nodirect``: every live frame through the stream's task (queue, wake, generator,
  send), as before ``django_sse.delivery.directsend``.
- ``eagerthread``: ``request_started`` and ``request_finished`` sent with ``asend``
  for every stream, a thread hop each, as before ``django_sse.server.request_thread``.
- ``nometrics``: no Prometheus metrics, as a project without the ``[metrics]`` extra
  (the bench installs prometheus-client, so django-sse's rows count with metrics on).
- ``nogc``, ``gcfreeze``: the cyclic collector off, or the startup objects frozen
  (``gc.freeze()``), to see the collector's share; ``gcstats`` writes the time spent
  per generation to ``/tmp/gcstats-<pid>.json`` (and, when ``/tmp/gctypes-please``
  exists, the tracked objects by type to ``/tmp/gctypes-<pid>-<time>.txt``).
"""

from __future__ import annotations

from typing import Any

PATCHES = (
    "notimeout",
    "sendtimer",
    "waittimer",
    "nowritethrough",
    "nolinger",
    "slowpath",
    "nodirect",
    "eagerthread",
    "nometrics",
    "nogc",
    "gcfreeze",
    "gcstats",
)


def apply(names: list[str]) -> None:
    if unknown := set(names) - set(PATCHES):
        raise ValueError(f"unknown patches: {', '.join(sorted(unknown))}")
    for name in names:
        globals()[f"_{name}"]()


def _notimeout() -> None:
    from django_sse.server.watchdog import Watchdog

    def bare(self: Watchdog, send: Any) -> Any:
        return send

    Watchdog.watch = bare  # type: ignore[method-assign]


def _sendtimer() -> None:
    import asyncio

    from django_sse.server.watchdog import Watchdog

    def with_timeout(self: Watchdog, send: Any) -> Any:
        async def send_within_timeout(message: Any) -> None:
            async with asyncio.timeout(self.timeout):
                await send(message)

        return send_within_timeout

    Watchdog.watch = with_timeout  # type: ignore[method-assign]


def _waittimer() -> None:
    from bench.timers import TimerSubscription
    from django_sse.delivery.subscription import Subscription

    Subscription.wait = TimerSubscription.wait  # type: ignore[method-assign,assignment]


def _slowpath() -> None:
    """Done by ``bench.settings`` (``SSE_FAST_PATH``)."""


def _nowritethrough() -> None:
    from django_sse.server import writethrough

    writethrough.write_body_now = lambda request, message: False


def _nolinger() -> None:
    from django_sse.delivery import hub

    hub.LINGER = 0.0


def _nodirect() -> None:
    from django_sse.delivery.connection import Connection

    Connection.send_directly = lambda self, send: None  # type: ignore[method-assign]


def _eagerthread() -> None:
    from django_sse.server import fastpath

    setattr(fastpath, "only_thread_bound", lambda signal, sender: False)  # noqa: B010


def _nogc() -> None:
    import gc

    gc.disable()


def _gcfreeze() -> None:
    import gc

    gc.collect()
    gc.freeze()


def _gcstats() -> None:
    """Time and objects per collector generation, dumped to /tmp/gcstats-<pid>.json."""
    import gc
    import json
    import os
    import threading
    import time

    totals = {g: {"n": 0, "s": 0.0, "collected": 0} for g in range(3)}
    started = [0.0]
    log: list[tuple[float, int, float, int]] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        took = time.perf_counter() - started[0]
        g = info["generation"]
        totals[g]["n"] += 1
        totals[g]["s"] += took
        totals[g]["collected"] += info["collected"]
        if g == 2:
            log.append((time.time(), g, took, len(gc.get_objects(2))))

    gc.callbacks.append(callback)

    def dump() -> None:
        while True:
            time.sleep(1)
            with open(f"/tmp/gcstats-{os.getpid()}.json", "w") as f:
                json.dump({"totals": totals, "full": log[-50:], "at": time.time()}, f)
            if os.path.exists("/tmp/gctypes-please"):
                os.remove("/tmp/gctypes-please")
                from collections import Counter

                kinds = Counter(
                    f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects()
                )
                with open(f"/tmp/gctypes-{os.getpid()}-{int(time.time())}.txt", "w") as f:
                    f.write("\n".join(f"{n} {k}" for k, n in kinds.most_common(60)))

    threading.Thread(target=dump, daemon=True).start()


def _nometrics() -> None:
    from django_sse import metrics
    from django_sse.delivery import hub
    from django_sse.signals import event_published

    hub.ON_OPEN[:] = [hook for hook in hub.ON_OPEN if hook.__module__ != metrics.__name__]
    event_published.disconnect(dispatch_uid="django_sse.metrics")
