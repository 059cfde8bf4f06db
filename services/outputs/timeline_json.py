"""timeline.json: the versioned, documented, deterministic serialisation of a :class:`Timeline`.

The layout is described in ``docs/timeline-schema.md`` and formally in ``timeline.schema.json`` beside this
module. Output is deterministic: the same timeline gives byte-identical JSON except ``created_at`` (floats are
rounded, keys sorted, lists in a fixed order).

Example:
    >>> from emostream.aggregator import TimelineBuilder
    >>> doc = timeline_to_dict(TimelineBuilder().finish(), SourceInfo("clip.mp4", 25.0, 0, 640, 480),
    ...                        ModelInfo("fer-cnn", "1.0", ("angry",)), created_at="2024-01-01T00:00:00+00:00")
    >>> doc["schema_version"], doc["tracks"]
    ('1.0', [])
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emostream.aggregator.records import FrameRecord, Segment, Timeline, TimelineEvent, TrackTimeline
from emostream.core.labels import UNKNOWN
from emostream.core.types import ModelInfo  # the classifier's own; name, version and classes are written

SCHEMA_VERSION = "1.0"
"""Bump the minor version for added fields, the major version for anything a reader could trip on."""

SCHEMA_PATH = Path(__file__).with_name("timeline.schema.json")
"""The JSON Schema (draft 2020-12) of the document."""

# Decimal places: seconds to 0.1 ms, pixels to 0.01 px, keypoints to 0.1 px, probabilities to 1e-4.
PTS_DIGITS, BOX_DIGITS, KP_DIGITS, PROB_DIGITS = 4, 2, 1, 4


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What was analysed. ``path`` is the file or URL as given (credentials already redacted), None for a camera."""

    path: str | None
    fps: float | None
    frame_count: int
    width: int | None
    height: int | None


def _r(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0


def _probs(p: np.ndarray | None) -> list[float] | None:
    return None if p is None else np.round(np.asarray(p, np.float64), PROB_DIGITS).tolist()


def _keypoints(kps: np.ndarray | None) -> list[list[float | None]] | None:
    if kps is None:
        return None
    arr = np.round(np.asarray(kps, np.float64).reshape(-1, 2), KP_DIGITS)
    return [[None if not math.isfinite(v) else v for v in row] for row in arr.tolist()]


def _frame(rec: FrameRecord) -> dict[str, Any]:
    return {
        "seq": rec.seq,
        "pts": _r(rec.pts, PTS_DIGITS),
        "box": [_r(v, BOX_DIGITS) for v in (rec.box.x1, rec.box.y1, rec.box.x2, rec.box.y2)],
        "score": _r(rec.score, PROB_DIGITS),
        "keypoints": _keypoints(rec.keypoints),
        "quality": sorted(q.value for q in rec.quality),
        "observed": rec.observed,
        "raw": _probs(rec.raw),
        "smoothed": _probs(rec.smoothed),
        "label": rec.label,
        "confidence": _r(rec.confidence, PROB_DIGITS),
    }


def _segment(seg: Segment) -> dict[str, Any]:
    return {
        "label": seg.label,
        "start_seq": seg.start_seq,
        "end_seq": seg.end_seq,
        "start_pts": _r(seg.start_pts, PTS_DIGITS),
        "end_pts": _r(seg.end_pts, PTS_DIGITS),
        "frames": seg.frames,
        "mean_confidence": _r(seg.mean_confidence, PROB_DIGITS),
    }


def _event(ev: TimelineEvent) -> dict[str, Any]:
    return {
        "type": ev.type.value,
        "track_id": ev.track_id,
        "seq": ev.seq,
        "pts": _r(ev.pts, PTS_DIGITS),
        "label": ev.label,
        "previous": ev.previous,
        "confidence": _r(ev.confidence, PROB_DIGITS),
    }


def _emotion_share(segments: Sequence[Segment]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for seg in segments:
        counts[seg.label] = counts.get(seg.label, 0) + seg.frames
    total = sum(counts.values()) or 1
    return {label: round(n / total, PROB_DIGITS) for label, n in counts.items()}


def _dominant(segments: Sequence[Segment]) -> str | None:
    counts: dict[str, int] = {}
    for seg in segments:
        if seg.label != UNKNOWN:
            counts[seg.label] = counts.get(seg.label, 0) + seg.frames
    return max(sorted(counts), key=lambda k: counts[k]) if counts else None


def _track(track: TrackTimeline, include_frames: bool) -> dict[str, Any]:
    return {
        "track_id": track.track_id,
        "first_seq": track.first_seq,
        "last_seq": track.last_seq,
        "first_pts": _r(track.first_pts, PTS_DIGITS),
        "last_pts": _r(track.last_pts, PTS_DIGITS),
        "duration_s": _r(track.duration, PTS_DIGITS),
        "frame_count": track.frame_count,
        "dominant_emotion": _dominant(track.segments),
        "emotion_share": _emotion_share(track.segments),
        "segments": [_segment(s) for s in track.segments],
        "frames": [_frame(r) for r in track.frames] if include_frames else [],
    }


def timeline_to_dict(
    timeline: Timeline,
    source: SourceInfo,
    model: ModelInfo,
    *,
    include_frames: bool = True,
    created_at: datetime | str | None = None,
) -> dict[str, Any]:
    """The JSON document as Python objects (see ``docs/timeline-schema.md``)."""
    if isinstance(created_at, datetime):
        created_at = created_at.astimezone(UTC).isoformat(timespec="seconds")
    elif created_at is None:
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": created_at,
        "source": {
            "path": source.path,
            "fps": _r(source.fps, PTS_DIGITS),
            "frame_count": source.frame_count,
            "width": source.width,
            "height": source.height,
            "camera": timeline.camera,
        },
        "model": {"name": model.name, "version": model.version, "classes": list(model.classes)},
        "summary": {
            "frames_processed": timeline.frame_count,
            "first_pts": _r(timeline.first_pts, PTS_DIGITS),
            "last_pts": _r(timeline.last_pts, PTS_DIGITS),
            "track_count": len(timeline.tracks),
            "event_count": len(timeline.events),
        },
        "tracks": [_track(t, include_frames) for t in timeline.tracks],
        "events": [_event(e) for e in timeline.events],
    }


def dumps(doc: dict[str, Any], indent: int | None = None) -> str:
    """Deterministic JSON text: sorted keys, no NaN, compact unless ``indent`` is given."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(doc, sort_keys=True, allow_nan=False, indent=indent, separators=separators) + "\n"


def write_timeline_json(
    path: str | os.PathLike[str],
    timeline: Timeline,
    source: SourceInfo,
    model: ModelInfo,
    *,
    include_frames: bool = True,
    created_at: datetime | str | None = None,
    indent: int | None = None,
) -> Path:
    """Write ``timeline.json`` atomically (a temporary file renamed into place) and return its path."""
    out = Path(path)
    text = dumps(timeline_to_dict(timeline, source, model, include_frames=include_frames, created_at=created_at),
                 indent)  # fmt: skip
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
