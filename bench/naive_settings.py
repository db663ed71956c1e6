"""The naive Django target: the shared base, no channel layer, no django-sse."""

from __future__ import annotations

from bench.django_base import *  # noqa: F403

ROOT_URLCONF = "bench.naive_urls"
