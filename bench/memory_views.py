"""``/bench/memory/``: where the server's memory goes, by allocation site (tracemalloc).

Active only when the server runs with ``DJANGO_SSE_BENCH_TRACEMALLOC`` set (then
``bench.asgi`` starts tracemalloc). ``?action=mark`` takes the baseline snapshot;
``?action=diff&top=30`` answers the sites that grew since, biggest first.
"""

from __future__ import annotations

import tracemalloc

from django.http import HttpRequest, HttpResponse, JsonResponse

_mark: list[tracemalloc.Snapshot] = []
IGNORE = (tracemalloc.Filter(False, tracemalloc.__file__),)


def memory(request: HttpRequest) -> HttpResponse:
    if not tracemalloc.is_tracing():
        return JsonResponse({"error": "tracemalloc is off"}, status=409)
    snapshot = tracemalloc.take_snapshot().filter_traces(IGNORE)
    if request.GET.get("action") == "mark":
        _mark[:] = [snapshot]
        return JsonResponse({"marked": True})
    if not _mark:
        return JsonResponse({"error": "mark first"}, status=409)
    top = int(request.GET.get("top", "30"))
    group = request.GET.get("by", "lineno")
    diff = snapshot.compare_to(_mark[0], group)
    sites = [
        {"site": str(stat.traceback[0]), "bytes": stat.size_diff, "count": stat.count_diff}
        for stat in diff[:top]
    ]
    total = sum(stat.size_diff for stat in diff)
    return JsonResponse({"total": total, "sites": sites})
