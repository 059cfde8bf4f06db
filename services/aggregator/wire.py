"""Conversions between the aggregator's records and their protobuf messages, both ways.

Inbound: a ``Detections`` stream entry becomes the :class:`FrameDetections` the embedded
:class:`~emostream.aggregator.timeline.TimelineBuilder` consumes (the reverse of ``core.protoconv.face_to_proto``;
the tracker and smoother never look at crops, so none are carried). Outbound: records, segments, tracks and
events as ``TimelineService`` messages, and a ``GetTimelineResponse`` back into the :class:`Timeline` the output
writers take (``emostream replay --remote``).

``TrackFrame`` carries the raw probabilities and the keypoints too, so a timeline read back over gRPC writes
the same timeline.json and timeline.csv columns as an embedded replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from emostream.aggregator.records import (
    EventType,
    FrameRecord,
    Segment,
    SegmentBuilder,
    Timeline,
    TimelineEvent,
    TrackTimeline,
)
from emostream.core.labels import UNKNOWN
from emostream.core.protoconv import QUALITY_TO_PROTO, box_from_proto, box_to_proto, quality_from_proto
from emostream.core.types import AlignedFace, ClassifiedFace, FaceDetection, FrameDetections, FrameMeta
from emostream.protos.v1 import face_pb2, stream_pb2, timeline_pb2

SCHEMA_VERSION = 1
KEYPOINTS = 6
_NO_CROP = np.zeros((0, 0), np.uint8)  # the tracker and smoother never read crops
_NO_CROP.flags.writeable = False

EVENT_TO_PROTO: dict[EventType, int] = {
    EventType.TRACK_STARTED: stream_pb2.EVENT_TYPE_TRACK_STARTED,
    EventType.TRACK_ENDED: stream_pb2.EVENT_TYPE_TRACK_ENDED,
    EventType.EMOTION_CHANGED: stream_pb2.EVENT_TYPE_EMOTION_CHANGED,
}
EVENT_FROM_PROTO: dict[int, EventType] = {value: kind for kind, value in EVENT_TO_PROTO.items()}
STREAM_ENDED = "stream_ended"  # the ``type`` label of the events metric for EVENT_TYPE_STREAM_ENDED


def event_type_name(value: int) -> str:
    """The metric label of an ``EventType`` enum value."""
    kind = EVENT_FROM_PROTO.get(value)
    return kind.value if kind is not None else STREAM_ENDED if value == stream_pb2.EVENT_TYPE_STREAM_ENDED else "other"


# --- inbound --------------------------------------------------------------------------------------------------


def _keypoints(points: Sequence[face_pb2.Point]) -> np.ndarray:
    if not points:
        return np.full((KEYPOINTS, 2), np.nan, np.float32)
    return np.array([(p.x, p.y) for p in points], np.float32).reshape(-1, 2)


def face_from_proto(face: face_pb2.Face) -> ClassifiedFace:
    """The reverse of ``core.protoconv.face_to_proto`` (without the crop)."""
    detection = FaceDetection(box_from_proto(face.box), float(face.score), _keypoints(face.keypoints))
    probabilities = np.array(face.probabilities, np.float32) if len(face.probabilities) else None
    return ClassifiedFace(AlignedFace(detection, _NO_CROP, quality_from_proto(face.quality)), probabilities)


def detections_from_proto(message: stream_pb2.Detections) -> FrameDetections:
    meta = FrameMeta(message.camera, message.seq, message.pts, message.wall_time, message.width, message.height)
    return FrameDetections(meta, tuple(face_from_proto(face) for face in message.faces))


# --- outbound -------------------------------------------------------------------------------------------------


def record_to_proto(rec: FrameRecord) -> timeline_pb2.TrackFrame:
    return timeline_pb2.TrackFrame(
        seq=rec.seq,
        pts=rec.pts,
        box=box_to_proto(rec.box),
        score=rec.score,
        quality=sorted(QUALITY_TO_PROTO[flag] for flag in rec.quality),
        smoothed=[] if rec.smoothed is None else [float(p) for p in rec.smoothed],
        label=rec.label,
        confidence=rec.confidence,
        observed=rec.observed,
        raw=[] if rec.raw is None else [float(p) for p in rec.raw],
        keypoints=[] if rec.keypoints is None else [face_pb2.Point(x=float(x), y=float(y)) for x, y in rec.keypoints],
    )


def segment_to_proto(seg: Segment) -> timeline_pb2.Segment:
    return timeline_pb2.Segment(
        label=seg.label, start_seq=seg.start_seq, end_seq=seg.end_seq, start_pts=seg.start_pts,
        end_pts=seg.end_pts, frames=seg.frames, mean_confidence=seg.mean_confidence,
    )  # fmt: skip


def summary_of(camera: str, track: TrackTimeline, label: str, active: bool) -> timeline_pb2.TrackSummary:
    return timeline_pb2.TrackSummary(
        camera=camera, track_id=track.track_id, first_seq=track.first_seq, last_seq=track.last_seq,
        first_pts=track.first_pts, last_pts=track.last_pts, frame_count=track.frame_count, label=label, active=active,
    )  # fmt: skip


def track_to_proto(camera: str, track: TrackTimeline, active: bool) -> timeline_pb2.TrackTimeline:
    """A finished (or snapshot) track: its summary and segments, without frames."""
    label = track.frames[-1].label if track.frames else track.segments[-1].label if track.segments else UNKNOWN
    return timeline_pb2.TrackTimeline(
        track=summary_of(camera, track, label, active), segments=[segment_to_proto(s) for s in track.segments]
    )


def event_to_proto(event: TimelineEvent, camera: str, wall_time: float) -> stream_pb2.Event:
    return stream_pb2.Event(
        schema_version=SCHEMA_VERSION, camera=camera, type=EVENT_TO_PROTO[event.type], track_id=event.track_id,
        seq=event.seq, pts=event.pts, wall_time=wall_time, label=event.label or "", previous=event.previous or "",
        confidence=event.confidence or 0.0,
    )  # fmt: skip


# --- back from the wire (remote replay) -----------------------------------------------------------------------


def record_from_proto(frame: timeline_pb2.TrackFrame) -> FrameRecord:
    smoothed = np.array(frame.smoothed, np.float32) if len(frame.smoothed) else None
    raw = np.array(frame.raw, np.float32) if len(frame.raw) else None
    keypoints = _keypoints(frame.keypoints) if len(frame.keypoints) else None
    return FrameRecord(
        frame.seq, frame.pts, box_from_proto(frame.box), float(frame.score), keypoints,
        quality_from_proto(frame.quality), raw, smoothed, frame.label, float(frame.confidence), observed=frame.observed,
    )  # fmt: skip


def segment_from_proto(seg: timeline_pb2.Segment) -> Segment:
    return Segment(seg.label, seg.start_seq, seg.end_seq, seg.start_pts, seg.end_pts, seg.frames,
                   float(seg.mean_confidence))  # fmt: skip


def track_from_proto(track: timeline_pb2.TrackTimeline) -> TrackTimeline:
    s = track.track
    return TrackTimeline(
        s.track_id, s.first_seq, s.first_pts, s.last_seq, s.last_pts,
        [record_from_proto(f) for f in track.frames], [segment_from_proto(g) for g in track.segments], s.frame_count,
    )  # fmt: skip


def event_from_proto(event: stream_pb2.Event) -> TimelineEvent | None:
    """A timeline event (None for the stream-ended marker and unknown types)."""
    kind = EVENT_FROM_PROTO.get(event.type)
    if kind is None:
        return None
    changed = kind is EventType.EMOTION_CHANGED
    return TimelineEvent(
        kind, event.track_id, event.seq, event.pts, event.label if changed else None,
        (event.previous or None) if changed else None, float(event.confidence) if changed else None,
    )  # fmt: skip


def timeline_from_response(
    response: timeline_pb2.GetTimelineResponse,
    camera: timeline_pb2.Camera,
    events: Iterable[stream_pb2.Event] = (),
    size: tuple[int, int] | None = None,
) -> Timeline:
    """The :class:`Timeline` a ``GetTimeline`` answer (with ``camera``'s counters and the camera's events)
    describes; ``size`` is the frames' (width, height), which the API does not carry."""
    converted = (event_from_proto(e) for e in events)
    width, height = size if size is not None else (None, None)
    return Timeline(
        tuple(response.classes),
        tuple(sorted((track_from_proto(t) for t in response.tracks), key=lambda t: t.track_id)),
        tuple(e for e in converted if e is not None),
        camera.frames,
        camera.first_pts if camera.frames else None,
        camera.last_pts if camera.frames else None,
        width,
        height,
        response.camera,
    )


def segments_from_frames(frames: Iterable[timeline_pb2.TrackFrame]) -> list[timeline_pb2.Segment]:
    """The segments of a track still open, cut from its stored frames the way the builder cuts them."""
    builder = SegmentBuilder()
    for frame in frames:
        builder.add(frame.seq, frame.pts, frame.label, frame.confidence)
    builder.close()
    return [segment_to_proto(seg) for seg in builder.segments]
