from __future__ import annotations

from typing import Any

from django_sse.auth import default_authorize


def authorize(user: Any, stream: str) -> bool:
    """The default, plus topics ``open-*`` for everyone and ``vip-*`` for staff."""
    if stream.startswith("topic:open-"):
        return True
    if stream.startswith("topic:vip-"):
        return bool(user.is_staff)
    return default_authorize(user, stream)
