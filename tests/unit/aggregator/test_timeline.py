"""TimelineBuilder: records, back-filled tentative frames, segments, events, unknown, idempotency."""

from __future__ import annotations

import pytest

from emostream.aggregator.records import EventType, SegmentBuilder
from emostream.aggregator.smoothing import SmootherConfig, SmoothingMethod
from emostream.aggregator.timeline import TimelineBuilder, TimelineConfig
from emostream.core.labels import UNKNOWN
from emostream.core.types import QualityFlag

FPS = 30.0
RAW = TimelineConfig(smoother=SmootherConfig(method=SmoothingMethod.NONE, min_hold_ms=0))


def _labels_run(face, frame, labels: list[str | None], config: TimelineConfig = RAW, x0: float = 100.0):
    events = []
    builder = TimelineBuilder(config, on_event=events.append)
    returned = []
    for i, lab in enumerate(labels):
        returned.extend(builder.update(frame(i, FPS, [face(x0 + i, 200, lab)])).events)
    timeline = builder.finish()
    return timeline, events, returned


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["happy"] * 10, [("happy", 0, 9)]),
        (["happy"] * 5 + ["neutral"] * 7, [("happy", 0, 4), ("neutral", 5, 11)]),
        (["sad"] * 4 + [None] * 3 + ["sad"] * 4, [("sad", 0, 3), (UNKNOWN, 4, 6), ("sad", 7, 10)]),
        (["angry"] * 3 + ["fear"] * 3 + ["angry"] * 3, [("angry", 0, 2), ("fear", 3, 5), ("angry", 6, 8)]),
    ],
)
def test_segments(face, frame, labels, expected) -> None:
    timeline, _, _ = _labels_run(face, frame, labels)
    (track,) = timeline.tracks
    assert [(s.label, s.start_seq, s.end_seq) for s in track.segments] == expected
    assert sum(s.frames for s in track.segments) == len(labels) == len(track.frames) == track.frame_count
    for seg in track.segments:
        assert seg.start_pts == pytest.approx(seg.start_seq / FPS)
        assert seg.mean_confidence == (0.0 if seg.label == UNKNOWN else pytest.approx(0.9))


def test_tentative_frames_are_back_filled_and_events_back_dated(face, frame) -> None:
    timeline, events, returned = _labels_run(face, frame, ["happy"] * 3 + ["sad"] * 3)
    (track,) = timeline.tracks
    assert (track.track_id, track.first_seq, track.last_seq) == (1, 0, 5)
    assert [r.seq for r in track.frames] == list(range(6))
    assert [(e.type, e.seq, e.label, e.previous) for e in events] == [
        (EventType.TRACK_STARTED, 0, None, None),
        (EventType.EMOTION_CHANGED, 0, "happy", None),
        (EventType.EMOTION_CHANGED, 3, "sad", "happy"),
        (EventType.TRACK_ENDED, 5, None, None),
    ]
    assert returned == events[:-1]  # track_ended comes from finish()
    assert list(timeline.events) == events


def test_unknown_faces_and_quality_flags(face, frame) -> None:
    builder = TimelineBuilder(RAW)
    for i in range(8):
        quality = (QualityFlag.BLURRED,) if i in (4, 5) else ()
        builder.update(frame(i, FPS, [face(100, 100, "happy", quality=quality)]))
    (track,) = builder.finish().tracks
    rec = track.frames[4]
    assert (rec.label, rec.confidence, rec.smoothed, rec.raw, rec.quality) == (
        UNKNOWN,
        0.0,
        None,
        None,
        frozenset({QualityFlag.BLURRED}),
    )
    assert [r.label for r in track.frames] == ["happy"] * 4 + [UNKNOWN] * 2 + ["happy"] * 2
    changes = [e for e in builder.finish().events if e.type is EventType.EMOTION_CHANGED]
    assert len(changes) == 1  # unknown frames never emit emotion_changed


def test_repeated_and_old_seq_are_ignored(face, frame) -> None:
    builder = TimelineBuilder(RAW)
    for seq in [0, 1, 2, 2, 3, 1, 4]:
        res = builder.update(frame(seq, FPS, [face(100 + seq, 100, "happy")]))
    assert not res.duplicate
    assert builder.duplicates == 2
    timeline = builder.finish()
    assert timeline.frame_count == 5
    assert [r.seq for r in timeline.tracks[0].frames] == [0, 1, 2, 3, 4]


def test_skipped_detection_frames_get_predicted_records(face, frame) -> None:
    builder = TimelineBuilder(RAW)
    for i in range(12):
        detected = i % 3 == 0 or i < 4
        res = builder.update(frame(i, FPS, [face(100 + 4 * i, 100, "happy")] if detected else []), detected=detected)
        if i >= 4:
            assert [tid for tid, _ in res.faces] == [1]
    (track,) = builder.finish().tracks
    assert len(track.frames) == 12
    predicted = [r for r in track.frames if not r.observed]
    assert predicted and all(r.label == "happy" and r.raw is None for r in predicted)
    assert predicted[-1].box.centre[0] == pytest.approx(100 + 4 * predicted[-1].seq, abs=6)


def test_track_end_event_when_face_leaves(face, frame) -> None:
    events = []
    builder = TimelineBuilder(RAW, on_event=events.append)
    for i in range(60):
        builder.update(frame(i, FPS, [face(100, 100, "happy")] if i < 10 else []))
    ended = [e for e in events if e.type is EventType.TRACK_ENDED]
    assert [(e.track_id, e.seq) for e in ended] == [(1, 9)]  # emitted live, once max_age_s passed
    assert len(builder.finish().tracks) == 1
    assert len([e for e in events if e.type is EventType.TRACK_ENDED]) == 1


def test_two_tracks_sorted_and_frames_by_seq(face, frame) -> None:
    builder = TimelineBuilder(RAW)
    for i in range(10):
        faces = [face(100, 100, "happy"), face(400, 100, "sad")] if i < 8 else [face(400, 100, "sad")]
        builder.update(frame(i, FPS, faces))
    timeline = builder.finish()
    assert [t.track_id for t in timeline.tracks] == [1, 2]
    by_seq = timeline.frames_by_seq()
    assert [tid for tid, _ in by_seq[0]] == [1, 2] and [tid for tid, _ in by_seq[9]] == [2]
    assert (timeline.width, timeline.height, timeline.first_pts) == (640, 480, 0.0)


def test_keep_frames_off_still_counts(face, frame) -> None:
    builder = TimelineBuilder(TimelineConfig(keep_frames=False))
    for i in range(5):
        builder.update(frame(i, FPS, [face(100, 100, "happy")]))
    (track,) = builder.finish().tracks
    assert (track.frames, track.frame_count, len(track.segments)) == ([], 5, 1)


def test_update_after_finish_raises(frame) -> None:
    builder = TimelineBuilder()
    builder.finish()
    with pytest.raises(RuntimeError):
        builder.update(frame(0, FPS))


def test_segment_builder_close_is_idempotent() -> None:
    sb = SegmentBuilder()
    assert sb.close() is None
    sb.add(0, 0.0, "happy", 0.8)
    assert sb.add(1, 0.1, "sad", 0.6) is not None
    sb.close()
    assert sb.close() is None
    assert [s.label for s in sb.segments] == ["happy", "sad"]
