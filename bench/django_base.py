"""Settings every Django target of the bench shares (django-sse, django-eventstream, naive).

A stock project's middleware (the six of ``startproject`` minus clickjacking),
``DEBUG = False``, SQLite in WAL mode on a file the runner chooses: the same
request path for every Django target, so the comparison is of the streaming code.
"""

from __future__ import annotations

import os
from typing import Any

SECRET_KEY = "django-sse-bench-not-secret"  # noqa: S105 - bench only
DEBUG = False  # DEBUG keeps every SQL query in memory; measure the production path
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_SSE_BENCH_DB", "/tmp/django-sse-bench.sqlite3"),
        # WAL lets readers run beside the publisher; IMMEDIATE queues writers.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
