"""The system check of the pooled handler's fast path (``django_sse.I001``).

The handler falls back to Django's request path silently when a middleware may not
run on the event loop: this check says so, and why, once, at ``manage.py check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Info

from django_sse.conf import conf
from django_sse.inline_middleware import not_inline


def check_fast_path(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    if not conf.SSE_FAST_PATH or (reason := not_inline(list(settings.MIDDLEWARE))) is None:
        return []
    return [
        Info(
            f"The event stream endpoint takes Django's full request path: {reason}.",
            hint="If that middleware does no I/O on the endpoint, add its path to "
            "SSE_FAST_PATH_MIDDLEWARE; set SSE_FAST_PATH = False to silence this.",
            id="django_sse.I001",
        )
    ]
