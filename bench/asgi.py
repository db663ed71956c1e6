"""The bench server's ASGI app: django-sse's pooled handler, as a project would use it.

``DJANGO_SSE_BENCH_PATCHES`` (comma-separated) applies prototypes from
``bench.experiments`` first, to measure what a change to the core would buy;
``DJANGO_SSE_BENCH_TRACEMALLOC`` traces allocations for ``bench/memory.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

if os.environ.get("DJANGO_SSE_BENCH_TRACEMALLOC"):  # bench/memory.py
    import tracemalloc

    tracemalloc.start()

from django_sse.asgi import get_asgi_application  # noqa: E402

if patches := [p for p in os.environ.get("DJANGO_SSE_BENCH_PATCHES", "").split(",") if p]:
    import django

    from bench import experiments

    django.setup(set_prefix=False)
    experiments.apply(patches)

application = get_asgi_application()
