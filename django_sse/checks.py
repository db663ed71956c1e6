"""System checks for the failures a django-sse deployment would otherwise hide.

Each message names the setting at fault and its ``hint`` says how to fix it;
every id is documented in ``docs/checks.md``. Registered in
``DjangoSseConfig.ready()`` under the ``django_sse`` tag, so
``manage.py check --tag django_sse`` runs only these.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import math
import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import django
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.checks import Warning as CheckWarning
from django.utils.module_loading import import_string

from django_sse.conf import DEFAULTS, conf
from django_sse.proxies import check_proxies, network_problem

TAG = "django_sse"
IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"
GZIP_MIDDLEWARE = "django.middleware.gzip.GZipMiddleware"
# From Django 6.1 GZipMiddleware flushes its compressor after each streamed chunk.
GZIP_FLUSHES = django.VERSION >= (6, 1)


def _layer_config() -> Mapping[str, Any]:
    layers, alias = getattr(settings, "CHANNEL_LAYERS", None), conf.raw("SSE_CHANNEL_LAYER")
    config = layers.get(alias) if isinstance(layers, Mapping) and isinstance(alias, str) else None
    return config if isinstance(config, Mapping) else {}


def _backend() -> str | None:
    return _layer_config().get("BACKEND")


# E001, W001, W003: the channel layer --------------------------------------


def check_channel_layer(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    alias = conf.raw("SSE_CHANNEL_LAYER")
    if not isinstance(alias, str) or _backend():
        return []
    return [
        Error(
            f"SSE_CHANNEL_LAYER is {alias!r} but CHANNEL_LAYERS has no {alias!r} layer "
            "with a BACKEND: django-sse cannot deliver events live.",
            hint=(
                f'Add CHANNEL_LAYERS = {{{alias!r}: {{"BACKEND": '
                f'"{IN_MEMORY_LAYER}"}}}} for a single process, or '
                '"channels_redis.core.RedisChannelLayer" for several; or point '
                "SSE_CHANNEL_LAYER at an alias that exists."
            ),
            id="django_sse.E001",
        )
    ]


def _workers_flag(args: Sequence[str]) -> int:
    """The value of ``-w N``, ``--workers N`` or ``--workers=N`` in ``args``, else 0."""
    for i, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name in ("-w", "--workers"):
            value = value if equals else (args[i + 1] if i + 1 < len(args) else "")
        elif arg.startswith("-w") and arg[2:].isdigit():
            value = arg[2:]
        else:
            continue
        return int(value) if value.isdigit() else 0
    return 0


def worker_count(environ: Mapping[str, str], argv: Sequence[str]) -> tuple[int, str]:
    """How many worker processes the environment asks for, and where it says so."""
    for name in ("WEB_CONCURRENCY", "UVICORN_WORKERS"):
        value = environ.get(name, "").strip()
        if value.isdigit() and int(value) > 1:
            return int(value), f"{name}={value}"
    workers = _workers_flag(shlex.split(environ.get("GUNICORN_CMD_ARGS", "")))
    if workers > 1:
        return workers, "GUNICORN_CMD_ARGS"
    program = os.path.basename(argv[0]) if argv else ""
    if ("gunicorn" in program or "uvicorn" in program) and _workers_flag(argv[1:]) > 1:
        return _workers_flag(argv[1:]), "--workers on the command line"
    return 1, ""


def check_in_memory_layer(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    if _backend() != IN_MEMORY_LAYER:
        return []
    workers, source = worker_count(os.environ, sys.argv)
    if workers < 2:
        return []
    return [
        CheckWarning(
            f"CHANNEL_LAYERS[{conf.SSE_CHANNEL_LAYER!r}] is the in-memory layer but "
            f"{source} runs {workers} worker processes: an event published in one "
            "process rings only there (others see it after SSE_RESYNC_INTERVAL; "
            "ephemeral events never).",
            hint='Use "channels_redis.core.RedisChannelLayer" when several processes serve '
            "or publish events.",
            id="django_sse.W001",
        )
    ]


def redis_major_version() -> int:
    """The installed redis-py's major version, 0 when it is not installed."""
    try:
        version = importlib.metadata.version("redis")
    except importlib.metadata.PackageNotFoundError:
        return 0
    major = version.split(".", 1)[0]
    return int(major) if major.isdigit() else 0


def _never_times_out(host: object) -> bool:
    return isinstance(host, Mapping) and "socket_timeout" in host and host["socket_timeout"] is None


def _hosts_time_out(config: Mapping[str, Any]) -> bool:
    options = config.get("CONFIG")
    hosts = options.get("hosts") if isinstance(options, Mapping) else None
    # Without hosts channels-redis uses one default host, without socket_timeout either.
    return not hosts or not all(_never_times_out(host) for host in hosts)


def check_redis_timeout(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    config = _layer_config()
    if not str(config.get("BACKEND")).startswith("channels_redis."):
        return []
    if redis_major_version() < 8 or not _hosts_time_out(config):
        return []
    return [
        CheckWarning(
            f"CHANNEL_LAYERS[{conf.SSE_CHANNEL_LAYER!r}] has Redis hosts without "
            '"socket_timeout": None: with redis-py >= 8 an idle receive() fails every '
            "5 seconds and the hub keeps reconnecting.",
            hint='Write each host as {"address": "redis://...", "socket_timeout": None}.',
            id="django_sse.W003",
        )
    ]


# W002: GZipMiddleware ------------------------------------------------------


def check_gzip_middleware(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    middleware = getattr(settings, "MIDDLEWARE", None) or ()
    if GZIP_FLUSHES or GZIP_MIDDLEWARE not in middleware:
        return []
    return [
        CheckWarning(
            f"MIDDLEWARE contains {GZIP_MIDDLEWARE}, which on Django < 6.1 holds streamed "
            "events in its compressor: browsers get them late, or not at all.",
            hint="Remove it from MIDDLEWARE (compress in the proxy and leave "
            "text/event-stream alone, or use gzip_page on chosen views), or upgrade to "
            "Django 6.1.",
            id="django_sse.W002",
        )
    ]


# E002-E020: the SSE_* values ----------------------------------------------


def _is_int(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_seconds(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


def _is_origin(value: object) -> bool:
    """What a browser sends in ``Origin``: compared exactly, so no path, not even "/"."""
    if not isinstance(value, str):
        return False
    url = urlsplit(value)
    return bool(url.scheme and url.netloc) and value == f"{url.scheme}://{url.netloc}"


SECONDS = "a finite number of seconds > 0"
RULES: dict[str, tuple[str, str, Callable[[object], bool]]] = {
    "SSE_CHANNEL_LAYER": ("E002", "a non-empty str", lambda v: isinstance(v, str) and bool(v)),
    "SSE_ALLOW_ANONYMOUS": ("E003", "True or False", lambda v: isinstance(v, bool)),
    "SSE_AUTHORIZE": ("E004", "a callable (user, stream) -> bool or its dotted path", callable),
    "SSE_HEARTBEAT_INTERVAL": ("E005", SECONDS, _is_seconds),
    "SSE_RETRY": ("E006", "an int of milliseconds >= 0", lambda v: _is_int(v, 0)),
    "SSE_MAX_CONNECTION_AGE": ("E007", SECONDS, _is_seconds),
    "SSE_MAX_PENDING": ("E008", "an int >= 1", lambda v: _is_int(v, 1)),
    "SSE_SEND_TIMEOUT": ("E009", SECONDS, _is_seconds),
    "SSE_MAX_TOPICS": ("E010", "an int >= 0", lambda v: _is_int(v, 0)),
    "SSE_EVENT_TTL": ("E011", SECONDS, _is_seconds),
    "SSE_MAX_EVENTS_PER_STREAM": ("E012", "an int >= 1", lambda v: _is_int(v, 1)),
    "SSE_RESYNC_INTERVAL": ("E013", SECONDS, _is_seconds),
    "SSE_HANDLER_THREADS": ("E014", "an int >= 1", lambda v: _is_int(v, 1)),
    "SSE_MAX_EVENT_SIZE": ("E015", "an int of bytes >= 1", lambda v: _is_int(v, 1)),
    "SSE_MAX_CONNECTIONS_PER_USER": ("E016", "an int >= 1", lambda v: _is_int(v, 1)),
    "SSE_MAX_CONNECTIONS_PER_IP": (
        "E017",
        "None (no cap) or an int >= 1",
        lambda v: v is None or _is_int(v, 1),
    ),
    "SSE_LIMIT_RETRY": ("E018", "an int of milliseconds >= 0", lambda v: _is_int(v, 0)),
    "SSE_CORS_ALLOWED_ORIGINS": (
        "E019",
        'a list of origins such as "https://example.com" (scheme://host[:port], no path)',
        lambda v: isinstance(v, list | tuple) and all(_is_origin(o) for o in v),
    ),
    "SSE_MAX_BUFFERED_BYTES": ("E020", "an int of bytes >= 1", lambda v: _is_int(v, 1)),
    "SSE_FAST_PATH": ("E021", "True or False", lambda v: isinstance(v, bool)),
    "SSE_FAST_PATH_MIDDLEWARE": (
        "E022",
        "a list of dotted paths of middleware classes",
        lambda v: isinstance(v, list | tuple) and all(isinstance(p, str) for p in v),
    ),
    "SSE_PRESENCE_TTL": (
        "E025",
        "None (no presence) or a finite number of seconds >= 2",
        lambda v: v is None or (_is_seconds(v) and v >= 2),  # type: ignore[operator]
    ),
    "SSE_PRESENCE_EVENTS": (
        "E026",
        'a list of topic name patterns such as "room-*" (fnmatch)',
        lambda v: isinstance(v, list | tuple) and all(isinstance(p, str) and p for p in v),
    ),
    "SSE_TOKEN_MAX_AGE": ("E028", SECONDS, _is_seconds),
    "SSE_METRICS_TOKEN": (
        "E024",
        "None (staff only) or a str of at least 16 characters",
        lambda v: v is None or (isinstance(v, str) and len(v) >= 16),
    ),
    "SSE_TRUSTED_PROXIES": (
        "E023",
        'a list of addresses or networks such as "10.0.0.5" or "10.0.0.0/8"',
        lambda v: isinstance(v, list | tuple) and not any(network_problem(n) for n in v),
    ),
}


def _authorize_problem(value: object) -> str | None:
    """Why ``SSE_AUTHORIZE`` is unusable: unimportable, not callable, wrong arity."""
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            return f"cannot be imported: {exc}"
    if not callable(value):
        return f"must be {RULES['SSE_AUTHORIZE'][1]}, not {value!r}"
    try:
        inspect.signature(value).bind(None, "broadcast")
    except TypeError:
        return "must accept two arguments (user, stream)"
    except ValueError:  # no signature to inspect (some builtins): trust it
        pass
    return None


def _value_problem(name: str, value: object) -> str | None:
    if name == "SSE_AUTHORIZE":
        return _authorize_problem(value)
    _, expected, valid = RULES[name]
    return None if valid(value) else f"must be {expected}, not {value!r}"


def check_settings(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, (code, expected, _) in RULES.items():
        problem = _value_problem(name, conf.raw(name)) if name in DEFAULTS else None
        if problem is not None:
            hint = f"Set {name} to {expected}, or remove it to use {DEFAULTS[name]!r}."
            errors.append(Error(f"{name} {problem}.", hint=hint, id=f"django_sse.{code}"))
    return errors


def check_presence_events(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    """Join and leave events come from presence: they need ``SSE_PRESENCE_TTL``."""
    if conf.raw("SSE_PRESENCE_EVENTS") and conf.raw("SSE_PRESENCE_TTL") is None:
        return [
            Error(
                "SSE_PRESENCE_EVENTS is set but presence is off: no join or leave is sent.",
                hint="Set SSE_PRESENCE_TTL (seconds, e.g. 30) too, or remove SSE_PRESENCE_EVENTS.",
                id="django_sse.E027",
            )
        ]
    return []


CHECKS = [
    check_settings,
    check_presence_events,
    check_proxies,
    check_channel_layer,
    check_in_memory_layer,
    check_gzip_middleware,
    check_redis_timeout,
]
