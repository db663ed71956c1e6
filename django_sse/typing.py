"""The ASGI types shared by the delivery and server layers, defined once.

They are the shapes Django's own ``ASGIHandler`` takes (plain mappings), so that the
pooled handler can extend it. ``asgiref.typing``'s TypedDicts are stricter than
Django's signatures (a subclass typed with them would break Liskov substitution),
so they document the messages but are not used for these aliases.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]
