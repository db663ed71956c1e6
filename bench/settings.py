"""Bench-only settings: the demo's, on a fresh SQLite file and a roomy in-memory layer.

``first_number.py`` sets ``DJANGO_SSE_BENCH_DB`` to a file in a temporary
directory and migrates it before it starts daphne.
"""

from __future__ import annotations

import os

from demo_project.settings import *  # noqa: F403
from demo_project.settings import DATABASES

DEBUG = False  # DEBUG keeps every SQL query in memory; measure the production path

DATABASES = {
    "default": {
        **DATABASES["default"],
        "NAME": os.environ.get("DJANGO_SSE_BENCH_DB", "/tmp/django-sse-bench.sqlite3"),
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {"capacity": 100_000},
    }
}

ROOT_URLCONF = "bench.urls"
ASGI_APPLICATION = "bench.asgi.application"

SSE_HEARTBEAT_INTERVAL = 15
