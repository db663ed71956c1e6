"""connection_opened / connection_closed: paired, however the stream ends."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from django_sse.delivery.connection import Connection
from django_sse.delivery.hub import Hub
from django_sse.signals import connection_closed, connection_opened
from tests.hubkit import eventually

pytestmark = pytest.mark.django_db(transaction=True)


async def test_opened_and_closed_are_sent_with_one_id(hub: Hub) -> None:
    seen: list[tuple[str, str, list[str]]] = []

    async def opened(sender: Any, connection_id: str, streams: list[str], **kw: Any) -> None:
        seen.append(("opened", connection_id, streams))

    def closed(sender: Any, connection_id: str, streams: list[str], **kw: Any) -> None:
        seen.append(("closed", connection_id, streams))  # a sync receiver: on a thread

    connection_opened.connect(opened)
    connection_closed.connect(closed)
    try:
        body = Connection(hub, ["broadcast", "topic:x"], None, user=AnonymousUser()).events()
        await anext(body)
        await eventually(lambda: len(seen) == 1)
        await body.aclose()  # the client went away
        await eventually(lambda: len(seen) == 2)
    finally:
        connection_opened.disconnect(opened)
        connection_closed.disconnect(closed)
    (_, first_id, streams), (_, second_id, _) = seen
    assert [kind for kind, _, _ in seen] == ["opened", "closed"]
    assert first_id == second_id and streams == ["broadcast", "topic:x"]
