"""Every ``SSE_*`` setting, cached until Django says it changed.

Nothing else in the package reads ``SSE_*`` names from ``django.conf.settings``.
Values are read on first use and kept: some are read per event chunk, and an unset
setting costs Django's ``LazySettings`` a raised and caught ``AttributeError`` on
every read. ``override_settings`` (and pytest-django's ``settings`` fixture) send
``setting_changed``, which drops the cached value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    "SSE_CHANNEL_LAYER": "default",  # alias in CHANNEL_LAYERS
    "SSE_ALLOW_ANONYMOUS": True,
    "SSE_AUTHORIZE": "django_sse.auth.default_authorize",
    "SSE_HEARTBEAT_INTERVAL": 15.0,  # seconds
    "SSE_RETRY": 3000,  # milliseconds, sent as the stream's `retry:` field
    "SSE_MAX_CONNECTION_AGE": 600.0,  # seconds, with up to 10% jitter
    "SSE_MAX_PENDING": 1000,  # frames queued per connection before catch-up
    "SSE_SEND_TIMEOUT": 30.0,  # seconds one write may take before closing
    "SSE_MAX_TOPICS": 8,  # topics one connection may follow
    "SSE_EVENT_TTL": 86400.0,  # seconds an event stays in the log
    "SSE_MAX_EVENTS_PER_STREAM": 1000,
    "SSE_RESYNC_INTERVAL": 10.0,  # seconds between the hub's log checks
    "SSE_HANDLER_THREADS": 4,  # shared threads of the pooled ASGI handler
    "SSE_MAX_EVENT_SIZE": 65536,  # bytes of one encoded event
    "SSE_MAX_CONNECTIONS_PER_USER": 20,  # open streams per user, per process
    "SSE_MAX_CONNECTIONS_PER_IP": None,  # open streams per client address, per process (None: off)
    "SSE_TRUSTED_PROXIES": [],  # addresses or networks whose X-Forwarded-For is believed
    "SSE_LIMIT_RETRY": 30000,  # milliseconds a refused-for-limit client waits
    "SSE_CORS_ALLOWED_ORIGINS": [],  # exact origins allowed to subscribe cross-origin
    "SSE_MAX_BUFFERED_BYTES": 1048576,  # bytes daphne may hold unread for one client
    "SSE_FAST_PATH": True,  # the pooled handler serves the endpoint without thread hops
    "SSE_FAST_PATH_MIDDLEWARE": [],  # dotted paths, besides Django's own, safe to run inline
    "SSE_PRESENCE_TTL": None,  # seconds a process's presence rows outlive it (None: off)
    "SSE_PRESENCE_EVENTS": [],  # topic name patterns that get sse:join and sse:leave
    "SSE_TOKEN_MAX_AGE": 3600,  # seconds a subscription token is good for, by default
    "SSE_METRICS_TOKEN": None,  # bearer token Prometheus sends to /metrics/ (staff only if None)
}

_UNREAD = object()


class Settings:
    """Typed access to the ``SSE_*`` settings with their defaults."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def raw(self, name: str) -> Any:
        """The setting as configured (or its default), before any conversion."""
        value = self._cache.get(name, _UNREAD)
        if value is _UNREAD:
            value = self._cache[name] = getattr(django_settings, name, DEFAULTS[name])
        return value

    def forget(self, name: str) -> None:
        """Drop a cached value: the next read goes to Django's settings again."""
        self._cache.pop(name, None)

    @property
    def SSE_CHANNEL_LAYER(self) -> str:
        return str(self.raw("SSE_CHANNEL_LAYER"))

    @property
    def SSE_ALLOW_ANONYMOUS(self) -> bool:
        return bool(self.raw("SSE_ALLOW_ANONYMOUS"))

    @property
    def SSE_AUTHORIZE(self) -> Callable[..., Any]:
        value = self.raw("SSE_AUTHORIZE")
        return import_string(value) if isinstance(value, str) else value  # type: ignore[no-any-return]

    @property
    def SSE_HEARTBEAT_INTERVAL(self) -> float:
        return float(self.raw("SSE_HEARTBEAT_INTERVAL"))

    @property
    def SSE_RETRY(self) -> int:
        return int(self.raw("SSE_RETRY"))

    @property
    def SSE_MAX_CONNECTION_AGE(self) -> float:
        return float(self.raw("SSE_MAX_CONNECTION_AGE"))

    @property
    def SSE_MAX_PENDING(self) -> int:
        return int(self.raw("SSE_MAX_PENDING"))

    @property
    def SSE_SEND_TIMEOUT(self) -> float:
        return float(self.raw("SSE_SEND_TIMEOUT"))

    @property
    def SSE_MAX_TOPICS(self) -> int:
        return int(self.raw("SSE_MAX_TOPICS"))

    @property
    def SSE_EVENT_TTL(self) -> float:
        return float(self.raw("SSE_EVENT_TTL"))

    @property
    def SSE_MAX_EVENTS_PER_STREAM(self) -> int:
        return int(self.raw("SSE_MAX_EVENTS_PER_STREAM"))

    @property
    def SSE_RESYNC_INTERVAL(self) -> float:
        return float(self.raw("SSE_RESYNC_INTERVAL"))

    @property
    def SSE_HANDLER_THREADS(self) -> int:
        return int(self.raw("SSE_HANDLER_THREADS"))

    @property
    def SSE_MAX_EVENT_SIZE(self) -> int:
        return int(self.raw("SSE_MAX_EVENT_SIZE"))

    @property
    def SSE_MAX_CONNECTIONS_PER_USER(self) -> int:
        return int(self.raw("SSE_MAX_CONNECTIONS_PER_USER"))

    @property
    def SSE_MAX_CONNECTIONS_PER_IP(self) -> int | None:
        value = self.raw("SSE_MAX_CONNECTIONS_PER_IP")
        return None if value is None else int(value)

    @property
    def SSE_TRUSTED_PROXIES(self) -> list[str]:
        return [str(network) for network in self.raw("SSE_TRUSTED_PROXIES")]

    @property
    def SSE_LIMIT_RETRY(self) -> int:
        return int(self.raw("SSE_LIMIT_RETRY"))

    @property
    def SSE_CORS_ALLOWED_ORIGINS(self) -> list[str]:
        return [str(origin) for origin in self.raw("SSE_CORS_ALLOWED_ORIGINS")]

    @property
    def SSE_MAX_BUFFERED_BYTES(self) -> int:
        return int(self.raw("SSE_MAX_BUFFERED_BYTES"))

    @property
    def SSE_FAST_PATH(self) -> bool:
        return bool(self.raw("SSE_FAST_PATH"))

    @property
    def SSE_FAST_PATH_MIDDLEWARE(self) -> list[str]:
        return [str(path) for path in self.raw("SSE_FAST_PATH_MIDDLEWARE")]

    @property
    def SSE_PRESENCE_TTL(self) -> float | None:
        ttl = self.raw("SSE_PRESENCE_TTL")
        return None if ttl is None else float(ttl)

    @property
    def SSE_PRESENCE_EVENTS(self) -> list[str]:
        return [str(pattern) for pattern in self.raw("SSE_PRESENCE_EVENTS")]

    @property
    def SSE_TOKEN_MAX_AGE(self) -> float:
        return float(self.raw("SSE_TOKEN_MAX_AGE"))

    @property
    def SSE_METRICS_TOKEN(self) -> str | None:
        token = self.raw("SSE_METRICS_TOKEN")
        return None if token is None else str(token)


conf = Settings()


def _forget_changed_setting(*, setting: str, **kwargs: Any) -> None:
    conf.forget(setting)


setting_changed.connect(_forget_changed_setting, dispatch_uid="django_sse.conf")
