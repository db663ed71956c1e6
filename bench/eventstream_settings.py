"""django-eventstream 5.3's target: the shared base plus its app and database storage.

Database storage (``DjangoModelStorage``) is its setup for recovery: events are
rows, and a client that reconnects with ``Last-Event-ID`` reads what it missed.
Served by Django's stock ASGI handler (``bench.eventstream_asgi``), as its
documentation sets it up, on daphne.
"""

from __future__ import annotations

from bench.django_base import *  # noqa: F403
from bench.django_base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_eventstream"]
ROOT_URLCONF = "bench.eventstream_urls"
EVENTSTREAM_STORAGE_CLASS = "django_eventstream.storage.DjangoModelStorage"
