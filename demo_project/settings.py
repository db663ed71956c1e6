"""Demo settings: SQLite + the in-memory channel layer, served by daphne.

Set ``DATABASE_URL``-style production settings in your own project; this one is
the embedded default that ``make demo`` runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-sse-demo-not-secret"  # noqa: S105 - demo only
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_sse",
    "django_sse.progress",  # background jobs (optional)
    "demo_project",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "demo_project.urls"
ASGI_APPLICATION = "demo_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "demo_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# The embedded default is SQLite + the in-memory layer (one process). For the
# production shape, set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/demo)
# and REDIS_URL (e.g. redis://127.0.0.1:6379/0): no code change.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'demo_project' / 'db.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the stream's reads run beside publishers' writes;
    # IMMEDIATE takes the write lock up front, so writers queue, not fail.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }

CHANNEL_LAYERS: dict[str, Any]
if redis_url := os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # socket_timeout None: redis-py >= 8 would otherwise time an idle receive out.
            "CONFIG": {"hosts": [{"address": redis_url, "socket_timeout": None}]},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }

# The "Job" page runs its exports on Celery when a broker is set (demo_project/celery.py),
# in a thread of the server otherwise. A worker's progress events are ephemeral: they
# reach the server's streams through a shared channel layer, so set REDIS_URL too.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "demo")

# One console handler, on the root logger: daphne's lines and Django's share it. Django's
# default adds its own to the "django" logger while DEBUG is on, which printed every 4xx
# twice next to daphne's.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)-8s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

# The room page: who is here, with join and leave events; a kick keeps one out.
SSE_PRESENCE_TTL = 30.0
SSE_PRESENCE_EVENTS = ["room"]
SSE_AUTHORIZE = "demo_project.rooms.authorize"

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
