"""Real-time server-to-browser events for Django over Server-Sent Events.

Importing this package has no side effects: the publish API is loaded on first
use, so ``import django_sse`` works before settings are configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_sse.publish import (
        abroadcast,
        asend_to_stream,
        asend_to_user,
        broadcast,
        send_to_stream,
        send_to_user,
    )

__all__ = [
    "abroadcast",
    "asend_to_stream",
    "asend_to_user",
    "broadcast",
    "send_to_stream",
    "send_to_user",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from django_sse import publish

        return getattr(publish, name)
    raise AttributeError(f"module 'django_sse' has no attribute {name!r}")
