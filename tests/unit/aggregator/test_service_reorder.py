"""The aggregator service's reorder buffer: out of order in, by seq out, gaps waited for then skipped."""

from __future__ import annotations

import pytest

from emostream.aggregator.reorder import ReorderBuffer


def released(buffer: ReorderBuffer[str], now: float) -> list[tuple[int, str, list[int]]]:
    return [(r.seq, r.item, list(r.skipped)) for r in buffer.pop_ready(now)]


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        ([0, 1, 2], [0, 1, 2]),
        ([1, 0, 2], [0, 1, 2]),
        ([2, 1, 0], [0, 1, 2]),
        ([0, 2, 3, 1], [0, 1, 2, 3]),
    ],
)
def test_leaves_in_seq_order(arrivals: list[int], expected: list[int]) -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=8, wait_s=1.0, next_seq=0)
    out: list[int] = []
    for seq in arrivals:
        assert buffer.push(seq, f"e{seq}", now=0.0)
        out.extend(r[0] for r in released(buffer, now=0.0))
    assert out == expected and len(buffer) == 0


def test_duplicates_and_late_entries_are_refused() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=8, wait_s=1.0, next_seq=0)
    assert buffer.push(0, "a", 0.0)
    assert [r[0] for r in released(buffer, 0.0)] == [0]
    assert not buffer.push(0, "again", 0.0)  # already released
    assert buffer.push(2, "c", 0.0)
    assert not buffer.push(2, "c twice", 0.0)  # already held
    assert 2 in buffer


def test_a_gap_is_waited_for_then_skipped() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=8, wait_s=1.0, next_seq=0)
    buffer.push(0, "a", 0.0)
    buffer.push(3, "d", 0.1)
    assert released(buffer, 0.5) == [(0, "a", [])]
    assert released(buffer, 1.0) == []  # 3 has waited 0.9 s
    assert released(buffer, 1.1) == [(3, "d", [1, 2])]
    assert not buffer.push(2, "late", 1.2)


def test_a_full_window_skips_the_gap_at_once() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=2, wait_s=60.0, next_seq=5)
    for seq in (7, 8):
        buffer.push(seq, str(seq), 0.0)
    assert released(buffer, 0.0) == []
    buffer.push(9, "9", 0.0)
    assert released(buffer, 0.0) == [(7, "7", [5, 6]), (8, "8", []), (9, "9", [])]


def test_unknown_start_waits_for_lower_seqs_without_counting_a_gap() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=8, wait_s=1.0)
    buffer.push(41, "x", 0.0)
    assert released(buffer, 0.5) == []
    buffer.push(40, "w", 0.6)
    assert released(buffer, 1.7) == [(40, "w", []), (41, "x", [])]
    assert buffer.next_seq == 42


def test_flush_releases_everything() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=8, wait_s=60.0, next_seq=0)
    buffer.push(2, "c", 0.0)
    buffer.push(5, "f", 0.0)
    assert [(r.seq, list(r.skipped)) for r in buffer.flush()] == [(2, [0, 1]), (5, [3, 4])]


def test_an_entry_may_bring_a_shorter_wait_for_the_gap_before_it() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window=8, wait_s=60.0, next_seq=0)
    assert buffer.deadline() is None
    buffer.push(2, "live", 1.0, wait_s=0.05)  # a live frame: 0 and 1 are not worth a minute
    assert buffer.deadline() == pytest.approx(1.05)
    assert released(buffer, 1.04) == []
    assert released(buffer, 1.05) == [(2, "live", [0, 1])]
    buffer.push(4, "replay", 2.0)
    assert buffer.deadline() == pytest.approx(62.0) and released(buffer, 10.0) == []
