"""What the aggregator produces: per-frame records, emotion segments, events, per-track timelines.

These are plain frozen dataclasses; the output writers (``emostream.outputs``) turn them into files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from emostream.core.labels import UNKNOWN
from emostream.core.types import Box, QualityFlag


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One track at one frame.

    ``observed`` is False when the detector did not run on the frame and the box is the tracker's prediction.
    ``raw`` is the classifier's output (None when unusable or not observed); ``smoothed`` the filtered state
    (None when the label is ``unknown``); ``confidence`` the smoothed probability of ``label`` (0 for unknown).
    """

    seq: int
    pts: float
    box: Box
    score: float
    keypoints: np.ndarray | None
    quality: frozenset[QualityFlag]
    raw: np.ndarray | None
    smoothed: np.ndarray | None
    label: str
    confidence: float
    observed: bool = True


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of frames of one track with the same label. Times are those of its first and last frame."""

    label: str
    start_seq: int
    end_seq: int
    start_pts: float
    end_pts: float
    frames: int
    mean_confidence: float


class EventType(StrEnum):
    """Kinds of timeline events (also the ``type`` label of the events metric)."""

    TRACK_STARTED = "track_started"
    TRACK_ENDED = "track_ended"
    EMOTION_CHANGED = "emotion_changed"


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something that happened to a track at ``seq``/``pts``; ``label`` and ``previous`` for emotion changes."""

    type: EventType
    track_id: int
    seq: int
    pts: float
    label: str | None = None
    previous: str | None = None
    confidence: float | None = None


@dataclass(slots=True)
class TrackTimeline:
    """Everything known about one confirmed track."""

    track_id: int
    first_seq: int
    first_pts: float
    last_seq: int
    last_pts: float
    frames: list[FrameRecord] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    frame_count: int = 0  # records seen (``frames`` may be empty when the builder keeps no frames)

    @property
    def duration(self) -> float:
        """Seconds between the first and last frame."""
        return self.last_pts - self.first_pts


@dataclass(frozen=True, slots=True)
class Timeline:
    """The finished result of a :class:`~emostream.aggregator.timeline.TimelineBuilder`."""

    classes: tuple[str, ...]
    tracks: tuple[TrackTimeline, ...]  # by track id
    events: tuple[TimelineEvent, ...]
    frame_count: int  # distinct frames consumed
    first_pts: float | None
    last_pts: float | None
    width: int | None = None
    height: int | None = None
    camera: str | None = None

    def frames_by_seq(self) -> dict[int, list[tuple[int, FrameRecord]]]:
        """``seq -> [(track_id, record), ...]``, handy to draw the annotated video after the fact."""
        out: dict[int, list[tuple[int, FrameRecord]]] = {}
        for track in self.tracks:
            for rec in track.frames:
                out.setdefault(rec.seq, []).append((track.track_id, rec))
        return out


class SegmentBuilder:
    """Cuts a label sequence into :class:`Segment` runs, incrementally (O(1) per frame)."""

    __slots__ = ("_conf_sum", "_end_pts", "_end_seq", "_label", "_n", "_start_pts", "_start_seq", "segments")

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self._label: str | None = None
        self._start_seq = self._end_seq = 0
        self._start_pts = self._end_pts = 0.0
        self._n = 0
        self._conf_sum = 0.0

    def add(self, seq: int, pts: float, label: str, confidence: float) -> Segment | None:
        """Add a frame; returns the segment it closed, if the label changed."""
        closed = None
        if label != self._label:
            closed = self.close()
            self._label, self._start_seq, self._start_pts, self._n, self._conf_sum = label, seq, pts, 0, 0.0
        self._end_seq, self._end_pts = seq, pts
        self._n += 1
        self._conf_sum += 0.0 if label == UNKNOWN else confidence
        return closed

    def close(self) -> Segment | None:
        """Close the open segment (if any) and return it."""
        if self._label is None or self._n == 0:
            return None
        seg = Segment(
            self._label,
            self._start_seq,
            self._end_seq,
            self._start_pts,
            self._end_pts,
            self._n,
            self._conf_sum / self._n,
        )
        self.segments.append(seg)
        self._label, self._n = None, 0
        return seg
