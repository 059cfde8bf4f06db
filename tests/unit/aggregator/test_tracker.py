"""FaceTracker: ids, crossings, gaps in seconds, low-score pass, skipped frames, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from emostream.aggregator.tracker import FaceTracker, TrackerConfig, TrackStatus
from emostream.core.types import FaceDetection


def _run(tracker: FaceTracker, frames: list[list[FaceDetection]], fps: float) -> list[tuple[int | None, ...]]:
    return [tracker.update(dets, i / fps).assignments for i, dets in enumerate(frames)]


@pytest.mark.parametrize(
    ("dy", "speed", "size_b"),
    [
        (0.0, 8.0, 60.0),  # head-on crossing, identical sizes
        (15.0, 8.0, 60.0),  # slightly offset
        (0.0, 15.0, 50.0),  # fast, different sizes
        (30.0, 4.0, 70.0),  # slow
    ],
)
def test_two_faces_crossing_keep_their_ids(det, dy: float, speed: float, size_b: float) -> None:
    tracker = FaceTracker()
    frames = []
    for i in range(60):
        a = det(100 + speed * i, 200, 60)
        b = det(100 + speed * 59 - speed * i, 200 + dy, size_b)
        frames.append([a, b])
    out = _run(tracker, frames, 30.0)
    settled = out[5:]
    assert all(ids == (1, 2) for ids in settled), [i for i, ids in enumerate(settled) if ids != (1, 2)]


@pytest.mark.parametrize("fps", [10.0, 25.0, 30.0, 60.0])
@pytest.mark.parametrize(("gap_s", "same_id"), [(0.3, True), (0.8, True), (1.5, False)])
def test_gap_is_measured_in_seconds(det, fps: float, gap_s: float, same_id: bool) -> None:
    tracker = FaceTracker(TrackerConfig(max_age_s=1.0))
    n_before, n_gap = int(fps), round(gap_s * fps)
    frames = [[det(200 + 30 * i / fps, 200)] for i in range(n_before)]
    frames += [[] for _ in range(n_gap)]
    frames += [[det(200 + 30 * (n_before + n_gap + i) / fps, 200)] for i in range(int(fps))]
    out = _run(tracker, frames, fps)
    assert out[n_before - 1] == (1,)
    assert out[-1] == ((1,) if same_id else (2,))


def test_ids_start_at_one_and_false_positives_take_none(det) -> None:
    tracker = FaceTracker()
    frames = [[det(100, 100)] for _ in range(5)]
    frames[2] = [det(100, 100), det(500, 400)]  # a one-frame false positive
    out = _run(tracker, frames, 30.0)
    assert out[:2] == [(None,), (None,)]  # tentative until min_hits
    assert out[2] == (1, None)
    assert out[3:] == [(1,), (1,)]
    frames = [[det(100, 100), det(400, 100)] for _ in range(4)]
    assert _run(FaceTracker(), frames, 30.0)[-1] == (1, 2)


def test_deterministic(det) -> None:
    rng = np.random.default_rng(7)
    frames = [
        [det(x + rng.normal(0, 2), 100 + rng.normal(0, 2), 50, float(rng.uniform(0.2, 1))) for x in (50, 200, 350)]
        for _ in range(80)
    ]
    assert _run(FaceTracker(), frames, 25.0) == _run(FaceTracker(), frames, 25.0)


def test_low_score_detections_continue_but_never_start_tracks(det) -> None:
    tracker = FaceTracker()
    frames = [[det(100 + 2 * i, 100, score=0.9)] for i in range(5)]
    frames += [[det(100 + 2 * i, 100, score=0.3), det(400, 300, score=0.3)] for i in range(5, 15)]
    out = _run(tracker, frames, 30.0)
    assert all(ids == (1, None) for ids in out[5:])


def test_skipped_detection_frames_only_predict(det) -> None:
    tracker = FaceTracker()
    for i in range(2):  # still tentative
        tracker.update([det(100 + 6 * i, 100)], i / 30)
    for i in range(2, 6):  # detector skipped: tentative track must survive, box moves on
        up = tracker.predict(i / 30)
        assert [s.status for s in up.tracks] == [TrackStatus.TENTATIVE]
    assert up.tracks[0].box.centre[0] > 106
    up = tracker.update([det(136, 100)], 6 / 30)
    assert up.assignments == (1,)
    assert up.tracks[0].just_confirmed


def test_lost_then_removed_state_sequence(det) -> None:
    tracker = FaceTracker(TrackerConfig(max_age_s=0.5, min_hits=1))
    assert tracker.update([det(100, 100)], 0.0).assignments == (1,)
    assert tracker.update([], 0.1).tracks[0].status is TrackStatus.LOST
    assert tracker.update([], 0.5).tracks[0].status is TrackStatus.LOST
    up = tracker.update([], 0.7)
    assert not up.tracks
    assert [(s.track_id, s.status) for s in up.removed] == [(1, TrackStatus.REMOVED)]
    assert tracker.update([det(100, 100)], 0.8).assignments == (2,)


def test_missing_keypoints_fall_back_to_iou(det) -> None:
    tracker = FaceTracker()
    for i in range(6):
        d = det(100 + 3 * i, 100)
        d = FaceDetection(d.box, d.score, np.full((6, 2), np.nan, np.float32))
        ids = tracker.update([d], i / 30).assignments
    assert ids == (1,)


def test_occluded_face_crossing_behind_keeps_its_id(det) -> None:
    frames = []
    for i in range(60):
        a = det(100 + 8 * i, 200, 70)
        b = det(572 - 8 * i, 205, 55)
        frames.append([a] if 26 <= i <= 33 else [a, b])  # b hidden behind a around the crossing
    out = _run(FaceTracker(), frames, 30.0)
    assert out[-1] == (1, 2)
    assert all(ids[0] == 1 for ids in out[5:])
