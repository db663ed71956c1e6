from __future__ import annotations

import threading

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def thread_name(request: HttpRequest) -> HttpResponse:
    """A sync view: which thread did the handler run it on?"""
    return HttpResponse(threading.current_thread().name)


urlpatterns = [
    path("events/jobs/", include("django_sse.progress.urls")),  # background jobs
    path("events/", include("django_sse.urls")),
    path("thread/", thread_name),
    path("admin/", admin.site.urls),
]

handler403 = "tests.server.views.forbidden"  # a project's own 403 page
