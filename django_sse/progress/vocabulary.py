"""The vocabulary of progress, as events: percent, weighted phases, log lines, results.

Yield these from the work behind an ``EventStreamResponse``, or pass their ``data``
to a background job's reporter (``django_sse.progress.jobs``). The JavaScript client and the
demo read exactly these fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django_sse.http import ServerSentEvent

PROGRESS_EVENT = "progress"
LOG_EVENT = "log"
RESULT_EVENT = "result"


def percent_of(current: float, total: float | None) -> float | None:
    """0-100 with one decimal, or None when the total is unknown."""
    if not total:
        return None
    return round(100 * min(max(current / total, 0.0), 1.0), 1)


def progress(current: int, total: int | None, message: str = "") -> ServerSentEvent:
    """Counted work: ``current`` of ``total`` (None if unknown) done."""
    data = {"current": current, "total": total, "percent": percent_of(current, total)}
    return ServerSentEvent({**data, "message": message}, PROGRESS_EVENT)


class Phases:
    """Work in weighted phases, e.g. ``Phases({"validate": 10, "process": 70, "finalize": 20})``."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        if not weights or any(w < 0 for w in weights.values()) or not sum(weights.values()):
            raise ValueError("phases need positive weights")
        total = sum(weights.values())
        self.weights = {name: weight / total for name, weight in weights.items()}

    def update(self, phase: str, fraction: float, message: str = "") -> ServerSentEvent:
        """``fraction`` (0 to 1) of ``phase`` is done; earlier phases count as done."""
        if phase not in self.weights:
            raise ValueError(f"unknown phase {phase!r}; phases are {list(self.weights)}")
        fraction = min(max(fraction, 0.0), 1.0)
        names = list(self.weights)
        done = sum(self.weights[n] for n in names[: names.index(phase)])
        overall = done + self.weights[phase] * fraction
        data = {
            "phase": phase,
            "phase_progress": round(fraction, 4),
            "overall_progress": round(overall, 4),
            "percent": round(100 * overall, 1),
        }
        return ServerSentEvent({**data, "message": message}, PROGRESS_EVENT)


def log(message: str, level: str = "info") -> ServerSentEvent:
    """A line for work of unknown length (``level``: info, warning, error)."""
    return ServerSentEvent({"message": message, "level": level}, LOG_EVENT)


@dataclass
class BatchResult:
    """A tally of a batch: count as you go, then yield ``event()``."""

    succeeded: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, error: str) -> None:
        self.failed += 1
        self.errors.append(error)

    def event(self, max_errors: int = 100) -> ServerSentEvent:
        shown: Sequence[str] = self.errors[:max_errors]
        data = {"succeeded": self.succeeded, "failed": self.failed, "errors": list(shown)}
        return ServerSentEvent(data, RESULT_EVENT)
