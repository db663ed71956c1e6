"""The demo switches to PostgreSQL + Redis from environment variables alone."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.services import ROOT

SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
    "s.CHANNEL_LAYERS['default']['BACKEND'], s.CHANNEL_LAYERS['default'].get('CONFIG'))"
)


def demo_settings(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environment.update(DJANGO_SETTINGS_MODULE="demo_project.settings", **env)
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_embedded_default_is_sqlite_and_the_in_memory_layer() -> None:
    engine, name, backend, _ = demo_settings().split(" ", 3)
    assert (engine, backend) == (
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
    )
    assert name.endswith("demo_project/db.sqlite3")


def test_production_shape_from_database_url_and_redis_url() -> None:
    shown = demo_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/demo", REDIS_URL="redis://127.0.0.1:6379/1"
    )
    assert shown == (
        "django.db.backends.postgresql demo channels_redis.core.RedisChannelLayer "
        "{'hosts': [{'address': 'redis://127.0.0.1:6379/1', 'socket_timeout': None}]}"
    )
