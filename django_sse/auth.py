"""Who may read which stream: the ``SSE_AUTHORIZE`` hook and its default."""

from __future__ import annotations

import inspect
from typing import Any

from django_sse.conf import conf
from django_sse.delivery.db import run_db
from django_sse.streams import BROADCAST, session_key, user_stream


def default_authorize(user: Any, stream: str) -> bool:
    """A user reads its own user stream and broadcast; no topic."""
    if stream == BROADCAST:
        return True
    if stream.startswith("user:") and user.is_authenticated:
        return stream == user_stream(user.pk)
    return False


async def denied_streams(user: Any, streams: list[str]) -> list[str]:
    """The streams of ``streams`` that ``user`` may not read.

    The hook may be sync (then it runs on a worker thread, free to use the ORM)
    or async; the default is called inline, as it does no I/O.
    """
    check = conf.SSE_AUTHORIZE
    if check is default_authorize:
        return [s for s in streams if not check(user, s)]
    if inspect.iscoroutinefunction(check):
        return [s for s in streams if not await check(user, s)]

    def run() -> list[str]:
        return [s for s in streams if not check(user, s)]

    return await run_db(run)


def close_streams_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: end that session's streams on every process."""
    from django_sse.publish import close_user_streams

    key = session_key(request)
    if user is not None and key:
        close_user_streams(user, key)
