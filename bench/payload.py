"""What every target publishes, and how ``POST /bench/publish/`` asks for it.

The request body is ``{"count": k, "i": first index, "warm": bool}``; the server
publishes ``k`` broadcasts back to back, each stamped with ``time.time()`` just
before it is handed to the library: ``{"t": <publish time>, "i": <index>}`` for
measured events, ``{"warm": <index>}`` for warm-up ones. The client finds
``"t":`` and ``"warm":`` in the bytes it reads; nothing else is parsed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

EVENT = "bench"


@dataclass(frozen=True)
class PublishRequest:
    count: int
    first: int
    warm: bool

    @classmethod
    def parse(cls, body: bytes) -> PublishRequest:
        """Raise ``ValueError`` on anything but the expected JSON object."""
        try:
            data = json.loads(body or b"{}")
            return cls(int(data.get("count", 1)), int(data.get("i", 0)), bool(data.get("warm")))
        except (TypeError, AttributeError) as exc:
            raise ValueError(str(exc)) from exc

    def body(self) -> bytes:
        return json.dumps({"count": self.count, "i": self.first, "warm": self.warm}).encode()

    def payload(self, k: int) -> dict[str, Any]:
        """The ``k``-th event's data, stamped now."""
        if self.warm:
            return {"warm": self.first + k}
        return {"t": time.time(), "i": self.first + k}
