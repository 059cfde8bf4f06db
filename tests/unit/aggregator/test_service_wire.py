"""Detections protobuf -> FrameDetections (the reverse of face_to_proto) and the TimelineService messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emostream.aggregator import TimelineBuilder
from emostream.aggregator.records import EventType, TimelineEvent
from emostream.aggregator.wire import (
    detections_from_proto,
    event_from_proto,
    event_to_proto,
    record_from_proto,
    record_to_proto,
    segments_from_frames,
    timeline_from_response,
    track_to_proto,
)
from emostream.core.labels import EMOTIONS
from emostream.core.types import QualityFlag
from emostream.protos.v1 import stream_pb2, timeline_pb2
from emostream.transport.codec import detections_to_proto
from tests.unit.aggregator.conftest import make_face, make_frame


def test_detections_round_trip() -> None:
    faces = [make_face(100, 100, "happy"), make_face(300, 120, None, quality=[QualityFlag.BLURRED])]
    frame = make_frame(7, 25.0, faces)
    message = stream_pb2.Detections.FromString(
        detections_to_proto(frame, EMOTIONS, "v1", thorough=False).SerializeToString()
    )
    back = detections_from_proto(message)
    assert back.meta == frame.meta
    for original, copy in zip(frame.faces, back.faces, strict=True):
        assert copy.face.quality == original.face.quality
        assert copy.face.detection.box.as_list() == original.face.detection.box.as_list()
        assert copy.face.detection.score == pytest.approx(original.face.detection.score, abs=1e-6)
        np.testing.assert_allclose(copy.face.detection.keypoints, original.face.detection.keypoints, atol=1e-3)
        if original.probabilities is None:
            assert copy.probabilities is None
        else:
            np.testing.assert_array_equal(copy.probabilities, original.probabilities)  # float32 both ways


def test_missing_keypoints_become_nan() -> None:
    message = stream_pb2.Detections(faces=[stream_pb2.Detections().faces.add()])
    keypoints = detections_from_proto(message).faces[0].face.detection.keypoints
    assert keypoints.shape == (6, 2) and np.isnan(keypoints).all()


def test_the_tracker_gives_the_same_timeline_from_protobuf() -> None:
    frames = [make_frame(seq, 10.0, [make_face(100 + seq, 100, "happy" if seq < 8 else "sad")]) for seq in range(16)]
    direct, wired = TimelineBuilder(), TimelineBuilder()
    for frame in frames:
        direct.update(frame)
        wired.update(detections_from_proto(detections_to_proto(frame, EMOTIONS, "v", False)))
    a, b = direct.finish(), wired.finish()
    assert [(t.track_id, t.first_seq, t.last_seq) for t in a.tracks] == [(t.track_id, t.first_seq, t.last_seq)
                                                                        for t in b.tracks]  # fmt: skip
    assert [t.segments for t in a.tracks] == [t.segments for t in b.tracks]
    assert a.events == b.events


def test_records_segments_and_events_survive_the_wire() -> None:
    builder = TimelineBuilder()
    for seq in range(12):
        builder.update(make_frame(seq, 10.0, [make_face(100, 100, "happy" if seq < 6 else "surprise")]))
    timeline = builder.finish()
    track = timeline.tracks[0]
    frames = [record_to_proto(rec) for rec in track.frames]
    back = [record_from_proto(f) for f in frames]
    assert [(r.seq, r.label, r.observed, r.box.as_list()) for r in back] == [
        (r.seq, r.label, r.observed, r.box.as_list()) for r in track.frames
    ]
    assert [(s.label, s.start_seq, s.end_seq, s.frames) for s in segments_from_frames(frames)] == [
        (s.label, s.start_seq, s.end_seq, s.frames) for s in track.segments
    ]
    message = track_to_proto("cam", track, active=False)
    assert message.track.frame_count == track.frame_count and message.track.label == track.frames[-1].label

    events = [event_to_proto(e, "cam", 1.0) for e in timeline.events]
    assert [event_from_proto(e) for e in events] == [
        TimelineEvent(e.type, e.track_id, e.seq, pytest.approx(e.pts), e.label, e.previous,
                      None if e.confidence is None else pytest.approx(e.confidence, abs=1e-6))
        for e in timeline.events
    ]  # fmt: skip
    ended = stream_pb2.Event(type=stream_pb2.EVENT_TYPE_STREAM_ENDED)
    assert event_from_proto(ended) is None

    response = timeline_pb2.GetTimelineResponse(camera="cam", classes=list(EMOTIONS))
    response.tracks.append(message)
    response.tracks[0].frames.extend(frames)
    camera = timeline_pb2.Camera(name="cam", frames=12, first_pts=0.0, last_pts=1.1)
    rebuilt = timeline_from_response(response, camera, [*events, ended], size=(640, 480))
    assert rebuilt.frame_count == 12 and rebuilt.width == 640 and rebuilt.camera == "cam"
    assert [e.type for e in rebuilt.events] == [e.type for e in timeline.events]
    assert rebuilt.tracks[0].segments[0].label == track.segments[0].label
    assert math.isclose(rebuilt.tracks[0].segments[-1].mean_confidence, track.segments[-1].mean_confidence,
                        rel_tol=1e-5)  # fmt: skip
    assert EventType.TRACK_ENDED in {e.type for e in rebuilt.events}
