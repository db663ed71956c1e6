"""Settings of the real servers the end-to-end tests start.

Chosen by environment variables so one module serves every combination:
``SSE_TEST_DB`` (``sqlite:<path>`` or ``postgres:<database>``), ``SSE_TEST_LAYER``
(``memory`` or ``redis:<prefix>``), ``SSE_TEST_OVERRIDES`` (JSON of settings) and
``SSE_TEST_ACCELERATIONS`` (``off``: no server accelerations).
"""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS, MIDDLEWARE

ROOT_URLCONF = "tests.server.urls"
ASGI_APPLICATION = "tests.server.asgi.application"
INSTALLED_APPS = ["daphne", *INSTALLED_APPS]
MIDDLEWARE = [*MIDDLEWARE, "django.middleware.csrf.CsrfViewMiddleware"]
SSE_AUTHORIZE = "tests.server.auth.authorize"

_kind, _, _where = os.environ.get("SSE_TEST_DB", "sqlite:").partition(":")
if _kind == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _where,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "OPTIONS": {"application_name": "django_sse_e2e"},
        }
    }
elif _where:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _where,
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"]}

_layer, _, _prefix = os.environ.get("SSE_TEST_LAYER", "memory").partition(":")
# redis:<prefix>[@<port>] or redis:<prefix>@sentinel=<port>,<port>,... (docs/deploy.md)
_prefix, _, _redis_at = _prefix.partition("@")
_sentinels = _redis_at.removeprefix("sentinel=").split(",") if "=" in _redis_at else []
_host: dict[str, object] = (
    {
        "master_name": "django-sse",
        "sentinels": [("127.0.0.1", int(port)) for port in _sentinels],
        "socket_timeout": None,
    }
    if _sentinels
    else {"address": f"redis://127.0.0.1:{_redis_at or 6379}/0", "socket_timeout": None}
)
if _layer in ("redis", "redispubsub"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"
            if _layer == "redispubsub"
            else "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [_host],
                "prefix": _prefix,
                "capacity": 1000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }

# SSE_TEST_ACCELERATIONS=off: the servers run on Django's own request path and
# daphne's own writes (`make test-plain`); a test's own overrides still win.
if os.environ.get("SSE_TEST_ACCELERATIONS") == "off":
    SSE_FAST_PATH = False

globals().update(json.loads(os.environ.get("SSE_TEST_OVERRIDES", "{}")))
