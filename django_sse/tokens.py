"""Subscription tokens: a stream for a client without the session cookie (another origin,
an iframe, a mobile app, a service), signed by the site with Django's ``signing``.

A token names one user and the topics it may follow, and when it expires; the stream
endpoint takes it (``?token=`` for ``EventSource``, or ``Authorization: Bearer``) in
place of the session. It is signed, not encrypted: whoever holds it can read which user
and topics it names, and can follow those streams until it expires. It also carries a
keyed digest of the user's password hash, so changing the password ends every token, as it
ends every session. The signature uses ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``
while a key is being rotated). docs/security.md has the threat model.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from django_sse.conf import conf
from django_sse.streams import streams_for

SALT = "django_sse.subscription"
MAX_TOKEN_LENGTH = 2048  # characters: anything longer is not one of ours


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired, or its user is gone."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _auth_digests(user: Any) -> list[str]:
    """Change when the password does and reveal nothing of it: one per signing key, the
    current first (a token minted before a key rotation still matches a fallback)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [
        salted_hmac(SALT, user.password or "", secret=key, algorithm="sha256").hexdigest()[:16]
        for key in secrets
    ]


def subscription_token(
    user: Any, topics: Iterable[str] = (), *, max_age: float | None = None
) -> str:
    """A signed token that lets a client follow ``user``'s streams and ``topics``.

    ``max_age`` is in seconds (default ``SSE_TOKEN_MAX_AGE``). ``user`` must be a saved,
    active user: a page without one uses the session (or ``SSE_ALLOW_ANONYMOUS``).
    """
    user_model = get_user_model()
    if not isinstance(user, user_model) or user.pk is None:
        raise ValueError("subscription_token() needs a saved user instance")
    if not user.is_active:
        raise ValueError("subscription_token() refuses an inactive user")
    names = sorted(set(topics))
    streams_for(user, names)  # refuses what the endpoint would: a bad name, too many
    seconds = conf.SSE_TOKEN_MAX_AGE if max_age is None else max_age
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not seconds > 0:
        raise ValueError(f"max_age must be a positive number of seconds, not {max_age!r}")
    payload = {
        "u": str(user.pk),
        "t": names,
        "e": int(time.time() + seconds),
        "h": _auth_digests(user)[0],
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str) -> tuple[Any, list[str]]:
    """The user and topics a token names; :class:`InvalidToken` why it is refused.

    A database query (the user): call it from sync code or through ``sync_to_async``.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed")
    try:
        payload = signing.loads(token, salt=SALT)
        user_pk, topics, expires, digest = (payload[k] for k in ("u", "t", "e", "h"))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidToken("invalid") from None
    if not isinstance(expires, int) or time.time() >= expires:
        raise InvalidToken("expired")
    user_model = get_user_model()
    user = user_model._default_manager.filter(pk=user_pk).first()
    if user is None or not user.is_active:
        raise InvalidToken("its user is gone or inactive")
    if not any(constant_time_compare(str(digest), d) for d in _auth_digests(user)):
        raise InvalidToken("its user's password changed")
    return user, [str(t) for t in topics]


def redacted(token: str) -> str:
    """What a log may show of a token: enough to tell two apart, never enough to use."""
    return token[:8] + "..." if len(token) > 8 else "..."
