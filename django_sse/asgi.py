"""The ASGI entry point: ``get_asgi_application()`` for a project's ``asgi.py``.

A drop-in for Django's own: the same application, plus a pool of request threads
shared by every open stream, and the server accelerations where the compatibility
gate allows them (:mod:`django_sse.server`).
"""

from __future__ import annotations

from django_sse.server.handler import PooledASGIHandler, get_asgi_application

__all__ = ["PooledASGIHandler", "get_asgi_application"]
