"""The hub's recent frames per stream: contiguous, bounded, honest about gaps."""

from __future__ import annotations

from django_sse.delivery import recent
from django_sse.delivery.recent import RecentFrames


def test_after_returns_what_follows_a_position_or_none_when_not_all_kept() -> None:
    kept = RecentFrames()
    assert kept.after(0) is None  # nothing kept: ask the log
    for seq in (5, 6, 7):
        kept.add(seq, b"f%d" % seq)
    assert kept.after(4) == [(5, b"f5"), (6, b"f6"), (7, b"f7")]
    assert kept.after(6) == [(7, b"f7")]
    assert kept.after(7) == [] and kept.after(9) == []
    assert kept.after(3) is None  # 4 is not kept


def test_a_gap_starts_the_run_over() -> None:
    kept = RecentFrames()
    kept.add(1, b"a")
    kept.add(3, b"c")
    assert len(kept) == 1 and kept.after(2) == [(3, b"c")] and kept.after(1) is None


def test_count_and_bytes_are_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(recent, "MAX_FRAMES", 3)
    monkeypatch.setattr(recent, "MAX_BYTES", 10)
    kept = RecentFrames()
    for seq in range(1, 6):
        kept.add(seq, b"xx")
    assert [s for s, _ in kept.after(2) or []] == [3, 4, 5]
    kept.add(6, b"y" * 9)  # 9 + 2 > 10: only the newest fits... with one more
    assert [s for s, _ in kept.after(5) or []] == [6]
    assert kept.after(4) is None
    kept.clear()
    assert kept.after(0) is None


def test_nothing_is_replayed_that_the_log_may_have_pruned() -> None:
    kept = RecentFrames(max_frames=2)  # SSE_MAX_EVENTS_PER_STREAM
    for seq in (1, 2, 3):
        kept.add(seq, b"f", now=float(seq))
    assert kept.after(0) is None and kept.after(1) == [(2, b"f"), (3, b"f")]
    assert kept.after(1, since=2.5) is None  # event 2 is older than SSE_EVENT_TTL
    assert kept.after(2, since=2.5) == [(3, b"f")]
