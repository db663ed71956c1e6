"""django-sse's bench settings: the shared base, the in-memory layer (or Redis), roomy caps.

Knobs from the environment (set by the runner): ``DJANGO_SSE_BENCH_DB`` (the
SQLite file), ``DJANGO_SSE_BENCH_REDIS`` (a Redis URL: use channels-redis) with
``DJANGO_SSE_BENCH_PREFIX`` (its key prefix, unique per run),
``DJANGO_SSE_BENCH_HEARTBEAT`` (seconds, default 15).
"""

from __future__ import annotations

import os
from typing import Any

from bench.django_base import *  # noqa: F403
from bench.django_base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "channels", "django_sse"]

CHANNEL_LAYERS: dict[str, Any]
if redis_url := os.environ.get("DJANGO_SSE_BENCH_REDIS"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": redis_url, "socket_timeout": None}],
                "prefix": os.environ.get("DJANGO_SSE_BENCH_PREFIX", "django-sse-bench"),
                "capacity": 10_000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 100_000},
        }
    }

ROOT_URLCONF = "bench.urls"
ASGI_APPLICATION = "bench.asgi.application"

# bench.experiments that are settings
patches = os.environ.get("DJANGO_SSE_BENCH_PATCHES", "").split(",")
if "slowpath" in patches:  # the endpoint through Django's own request path
    SSE_FAST_PATH = False

SSE_HEARTBEAT_INTERVAL = float(os.environ.get("DJANGO_SSE_BENCH_HEARTBEAT", "15"))
