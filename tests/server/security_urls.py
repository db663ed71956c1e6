"""tests.server.urls plus a logout view, for the logout tests."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from tests.server.urls import urlpatterns as base


@csrf_exempt
def logout_view(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"ok": True})


urlpatterns = [*base, path("test/logout/", logout_view)]
