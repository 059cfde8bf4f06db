"""Newest frame wins: which live entries of a batch are skipped, and the live thorough-pass rhythm."""

from __future__ import annotations

import pytest

from emostream.detector.freshness import LiveRhythm, Pending, SkipReason, plan_batch, too_old
from emostream.protos.v1 import stream_pb2

NOW = 1_000.0


def pending(seq: int, live: bool = True, age_s: float = 0.0, end: bool = False) -> Pending:
    message = stream_pb2.Frame(schema_version=1, camera="cam", seq=seq, live=live, wall_time=NOW - age_s,
                               end_of_stream=end)  # fmt: skip
    return Pending(str(seq), {}, message)


@pytest.mark.parametrize(
    ("batch", "skipped", "processed"),
    [
        ([pending(s) for s in range(10)], [(s, "stale") for s in range(9)], [9]),
        ([pending(s, live=False) for s in range(10)], [], list(range(10))),  # replay: never skipped
        ([pending(0, age_s=5), pending(1, age_s=5)], [(0, "stale"), (1, "max_age")], []),
        ([pending(0, age_s=0.5)], [], [0]),
        ([pending(0), pending(1), pending(2, live=False, end=True)], [(0, "stale")], [1, 2]),  # end: never skipped
        ([pending(0, age_s=-3.0)], [], [0]),  # a capture clock ahead of ours: fresh
        ([], [], []),
    ],
)  # fmt: skip
def test_plan_keeps_the_newest_live_frame(batch: list[Pending], skipped: list[tuple[int, str]],
                                          processed: list[int]) -> None:  # fmt: skip
    plan = plan_batch(batch, NOW, max_age_s=1.0)
    assert [(p.message.seq, reason.value) for p, reason in plan.skip] == skipped
    assert [p.message.seq for p in plan.process] == processed


def test_no_age_limit_when_max_age_is_zero() -> None:
    old = pending(0, age_s=3600).message
    assert not too_old(old, NOW, 0.0) and too_old(old, NOW, 1.0)
    assert not too_old(pending(0, live=False, age_s=3600).message, NOW, 1.0)
    assert set(SkipReason) == {SkipReason.STALE, SkipReason.MAX_AGE}


def test_live_rhythm_without_skips_is_the_replay_rhythm() -> None:
    rhythm = LiveRhythm()
    assert [rhythm.thorough("cam", seq, 5, behind=False) for seq in range(12)] == [s % 5 == 0 for s in range(12)]


def test_live_rhythm_runs_once_per_block_whatever_seqs_are_processed() -> None:
    rhythm = LiveRhythm()
    seqs = [0, 3, 7, 9, 12, 16, 21, 24]  # never a multiple of 5 after the first
    assert [s for s in seqs if rhythm.thorough("cam", s, 5, behind=False)] == [0, 7, 12, 16, 21]
    assert rhythm.thorough("other", 3, 5, behind=True), "cameras are independent; the first frame is thorough"


def test_live_rhythm_yields_to_latency_while_behind_for_at_most_one_more_block() -> None:
    rhythm = LiveRhythm()
    assert rhythm.thorough("cam", 0, 5, behind=True)
    assert not rhythm.thorough("cam", 6, 5, behind=True)  # behind: the fast pass
    assert not rhythm.thorough("cam", 9, 5, behind=True)
    assert rhythm.thorough("cam", 10, 5, behind=True)  # two blocks on: thorough all the same
    assert rhythm.thorough("cam", 15, 5, behind=False)


def test_live_rhythm_starts_over_when_a_source_restarts_its_seqs_without_an_end_of_stream() -> None:
    rhythm = LiveRhythm()
    assert rhythm.thorough("cam", 1000, 5, behind=False)
    assert rhythm.thorough("cam", 0, 5, behind=False), "seq 0 after 1000: a restarted source, thorough at once"
    assert not rhythm.thorough("cam", 1, 5, behind=False)
