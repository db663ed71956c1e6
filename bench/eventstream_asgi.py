"""django-eventstream's ASGI app: Django's stock handler, as its documentation shows."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.eventstream_settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
