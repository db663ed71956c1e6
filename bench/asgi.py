"""The bench server's ASGI app: django-sse's pooled handler, as a project would use it."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django_sse.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
