"""Settings of the publish benchmark's workers and servers (``bench/publish.py``).

django-sse's bench settings on channels-redis, plus django-eventstream with its
database storage in the same database, so both publish into one engine.
``DJANGO_SSE_BENCH_DATABASE`` picks it: ``sqlite:<file>`` (WAL, as the other
benchmarks) or ``postgres:<database>`` on 127.0.0.1. Sessions are signed
cookies, so the end-to-end check can log 10,000 users in without a table.
"""

from __future__ import annotations

import os

from bench.settings import *  # noqa: F403
from bench.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_eventstream"]
EVENTSTREAM_STORAGE_CLASS = "django_eventstream.storage.DjangoModelStorage"
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

_kind, _, _name = os.environ.get("DJANGO_SSE_BENCH_DATABASE", "sqlite:").partition(":")
if _kind == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _name,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            # "off": the commit does not wait for the WAL flush (what bounds one hot stream)
            "OPTIONS": {
                "options": "-c synchronous_commit="
                + os.environ.get("DJANGO_SSE_BENCH_SYNC_COMMIT", "on")
            },
        }
    }
elif _name:
    DATABASES = {"default": {**DATABASES["default"], "NAME": _name}}
    if os.environ.get("DJANGO_SSE_BENCH_SYNC_COMMIT") == "off":  # SQLite's equivalent
        _options = DATABASES["default"]["OPTIONS"]
        _init = _options["init_command"] + " PRAGMA synchronous=NORMAL;"
        DATABASES["default"]["OPTIONS"] = {**_options, "init_command": _init}

_redis = os.environ.get("DJANGO_SSE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{"address": _redis, "socket_timeout": None}],
            "prefix": os.environ.get("DJANGO_SSE_BENCH_PREFIX", "django-sse-bench"),
            "capacity": 10_000,
        },
    }
}
EVENTSTREAM_REDIS = {"host": "127.0.0.1", "port": 6379, "db": 0}
