"""Per-process caps on open connections, per user and per client address.

Counts live in the hub of each process, so a cap holds per process: with N server
processes a user may hold up to N times the cap. Checking and counting happen with
no ``await`` in between, so a burst of concurrent connects cannot overshoot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


class LimitExceeded(Exception):
    """This connection would pass a cap; ``key`` names which one."""

    def __init__(self, key: str) -> None:
        super().__init__(f"too many open connections for {key}")
        self.key = key


class Quota:
    def __init__(self) -> None:
        self.open: Counter[str] = Counter()

    def take(self, owners: Iterable[tuple[str, int]]) -> tuple[str, ...]:
        """Count one more connection for each key, or raise without counting any."""
        owners = list(owners)
        for key, cap in owners:
            if self.open[key] >= cap:
                raise LimitExceeded(key)
        for key, _ in owners:
            self.open[key] += 1
        return tuple(key for key, _ in owners)

    def give_back(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]
