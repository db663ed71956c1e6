"""The server layer's system checks: what serves the streams, and how fast.

- ``django_sse.W004``: ``ASGI_APPLICATION`` does not serve HTTP with the pooled
  handler (every open stream would hold a thread).
- ``django_sse.W030``: the compatibility gate keeps an acceleration off (an untested
  release, a name of another shape); the site works, slower.
- ``django_sse.I001``: a middleware keeps the endpoint off the fast path.

Registering them imports none of the server stack, and running them has no side
effect: the ASGI module is read, not imported, unless it is imported already, and
the gate probes without patching anything.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Info
from django.core.checks import Warning as CheckWarning

from django_sse.conf import conf
from django_sse.server import gate

WRAPPER_DEPTH = 6  # ASGI middlewares followed to find the pooled handler
ENTRY_MODULES = ("django_sse.asgi", "django_sse.server.handler")
ENTRY_NAMES = frozenset({"get_asgi_application", "PooledASGIHandler"})


# W004: the ASGI application ------------------------------------------------


def _children(app: object) -> list[object]:
    mapping = getattr(app, "application_mapping", None)  # channels' ProtocolTypeRouter
    if isinstance(mapping, Mapping):
        return [mapping["http"]] if "http" in mapping else []
    names = ("app", "application", "inner", "_app")  # what ASGI middlewares call it
    return [child for name in names if (child := getattr(app, name, None)) is not None]


def serves_pooled_handler(app: object, depth: int = WRAPPER_DEPTH) -> bool:
    """Whether ``app`` is, or wraps for HTTP, a ``PooledASGIHandler``."""
    handler = sys.modules.get("django_sse.server.handler")
    if handler is not None and isinstance(app, handler.PooledASGIHandler):
        return True
    return depth > 0 and any(serves_pooled_handler(c, depth - 1) for c in _children(app))


def mentions_pooled_handler(source: str) -> bool:
    """Whether a module's source imports the pooled handler or its factory."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module in ENTRY_MODULES:
            found = {alias.name for alias in node.names} & ENTRY_NAMES
        elif isinstance(node, ast.Import):
            found = {alias.name for alias in node.names} & set(ENTRY_MODULES)
        else:
            continue
        if found:
            return True
    return False


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.has_location:
        raise ModuleNotFoundError(f"No module named {module!r}")
    with open(spec.origin, encoding="utf-8") as file:
        return file.read()


def _asgi_problem(path: object) -> str | None:
    if not path:
        return "ASGI_APPLICATION is not set, so django-sse cannot check what serves its streams."
    module, _, name = str(path).rpartition(".")
    try:
        if module in sys.modules:  # under a server: look at the application itself
            served = serves_pooled_handler(getattr(sys.modules[module], name))
        else:  # manage.py check: read the module, never run it (no side effects)
            served = mentions_pooled_handler(_source(module))
    except Exception as exc:
        return f"ASGI_APPLICATION {path!r} cannot be imported: {exc!r}."
    if served:
        return None
    return (
        f"ASGI_APPLICATION {path!r} does not serve HTTP with "
        "django_sse.asgi.PooledASGIHandler: every open stream holds a thread."
    )


def check_asgi_application(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    problem = _asgi_problem(getattr(settings, "ASGI_APPLICATION", None))
    if problem is None:
        return []
    hint = (
        "In asgi.py write `from django_sse.asgi import get_asgi_application` and "
        '`application = get_asgi_application()`; set ASGI_APPLICATION = "mysite.asgi.application". '
        "If your application wraps the pooled handler in a way this check cannot see, add "
        '"django_sse.W004" to SILENCED_SYSTEM_CHECKS.'
    )
    return [CheckWarning(problem, hint=hint, id="django_sse.W004")]


# W030: the compatibility gate ----------------------------------------------


def check_gate(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    return [
        CheckWarning(
            f"django-sse's server acceleration is off: {reason}. Streams and pages work "
            "on Django's own request path and daphne's own writes, slower.",
            hint="Use a release the gate lists (docs/architecture.md, the compatibility "
            "gate), or set SSE_FAST_PATH = False to run without accelerations on purpose.",
            id="django_sse.W030",
        )
        for reason in gate.decide().surprises
    ]


# I001: the fast path's middleware ------------------------------------------


def check_fast_path(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    if not conf.SSE_FAST_PATH:
        return []
    from django_sse.server.inline_middleware import not_inline  # the checks run: not at setup

    if (reason := not_inline(list(settings.MIDDLEWARE))) is None:
        return []
    return [
        Info(
            f"The event stream endpoint takes Django's full request path: {reason}.",
            hint="If that middleware does no I/O on the endpoint, add its path to "
            "SSE_FAST_PATH_MIDDLEWARE; set SSE_FAST_PATH = False to silence this.",
            id="django_sse.I001",
        )
    ]


CHECKS = [check_asgi_application, check_gate, check_fast_path]
