"""Real-time server-to-browser events for Django over Server-Sent Events.

Importing this package has no side effects: the publish API is loaded on first
use, so ``import django_sse`` works before settings are configured.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from django_sse.exports import lookup

try:
    __version__ = version("django-sse-events")
except PackageNotFoundError:  # a checkout on sys.path, not installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from django_sse.bulk import apublish_many, asend_to_users, publish_many, send_to_users
    from django_sse.outgoing import Message, UnknownUser
    from django_sse.publish import (
        abroadcast,
        asend_to_stream,
        asend_to_user,
        broadcast,
        flush,
        send_to_stream,
        send_to_user,
    )
    from django_sse.revocation import arevoke, arevoke_topic, revoke, revoke_topic
    from django_sse.tokens import subscription_token

_HOMES = {
    "abroadcast": "publish",
    "asend_to_stream": "publish",
    "asend_to_user": "publish",
    "broadcast": "publish",
    "flush": "publish",
    "send_to_stream": "publish",
    "send_to_user": "publish",
    "apublish_many": "bulk",
    "asend_to_users": "bulk",
    "publish_many": "bulk",
    "send_to_users": "bulk",
    "Message": "outgoing",
    "UnknownUser": "outgoing",
    "subscription_token": "tokens",
    "revoke": "revocation",
    "revoke_topic": "revocation",
    "arevoke": "revocation",
    "arevoke_topic": "revocation",
}
__all__ = [
    "Message",
    "UnknownUser",
    "abroadcast",
    "arevoke",
    "arevoke_topic",
    "apublish_many",
    "asend_to_stream",
    "asend_to_user",
    "asend_to_users",
    "broadcast",
    "flush",
    "publish_many",
    "revoke",
    "revoke_topic",
    "send_to_stream",
    "send_to_user",
    "send_to_users",
    "subscription_token",
]


def __getattr__(name: str) -> Any:
    return lookup(__name__, _HOMES, name)
