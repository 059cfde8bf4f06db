"""ByteTrack-style multi-face tracker with a constant-velocity Kalman filter and ages measured in seconds.

Life of a track: a confident detection that matches nothing starts a TENTATIVE track; after ``min_hits`` matched
detections it is CONFIRMED and receives the next public id (1, 2, ...); when a detection frame does not see it,
it is LOST, and LOST for longer than ``max_age_s`` of presentation time it is REMOVED. A tentative track that a
detection frame misses is removed at once, so false positives never consume an id.

Association (per detection frame): (1) high-score detections against confirmed and lost tracks, on IoU blended
with keypoint similarity; (2) low-score detections against the confirmed tracks still unmatched, on IoU;
(3) the remaining high-score detections against tentative tracks; (4) the rest start tentative tracks.

Example:
    >>> import numpy as np
    >>> from emostream.core.types import Box, FaceDetection
    >>> tracker = FaceTracker(TrackerConfig(min_hits=1))
    >>> face = FaceDetection(Box(10, 10, 50, 50), 0.9, np.full((6, 2), np.nan, np.float32))
    >>> tracker.update([face], pts=0.0).assignments
    (1,)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from emostream.aggregator.association import iou_matrix, keypoint_similarity, match
from emostream.aggregator.kalman import KalmanBoxBank
from emostream.core.types import Box, FaceDetection


class TrackerConfig(BaseModel):
    """Tuning of :class:`FaceTracker`. Unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    high_score: float = Field(default=0.5, ge=0, le=1, description="detections at or above go to the first association")
    low_score: float = Field(default=0.1, ge=0, le=1, description="detections below are ignored")
    new_track_score: float = Field(
        default=0.6, ge=0, le=1, description="an unmatched detection starts a track from here"
    )
    min_similarity: float = Field(default=0.2, gt=0, le=1, description="first pass: least blended similarity to match")
    min_similarity_low: float = Field(default=0.5, gt=0, le=1, description="second pass (low scores): least IoU")
    min_similarity_tentative: float = Field(default=0.3, gt=0, le=1, description="third pass: least IoU")
    keypoint_weight: float = Field(default=0.3, ge=0, le=1, description="weight of keypoint similarity vs IoU")
    keypoint_sigma: float = Field(default=0.25, gt=0, description="keypoint distance scale, fraction of the box height")
    min_hits: int = Field(default=3, ge=1, description="matched detections before a track is confirmed")
    max_age_s: float = Field(default=1.0, gt=0, description="seconds of PTS a lost track is kept before removal")
    pos_std: float = Field(default=1 / 20, gt=0, description="Kalman process noise, position (fraction of height)")
    vel_std: float = Field(default=1 / 160, gt=0, description="Kalman process noise, velocity (fraction of height)")
    meas_std: float = Field(default=1 / 20, gt=0, description="Kalman measurement noise (fraction of height)")


class TrackStatus(StrEnum):
    """Where a track is in its life."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class TrackState:
    """A track as seen after one update.

    ``uid`` is internal and never reused (tentative tracks have one too); ``track_id`` is the public id, given at
    confirmation. ``detection_index`` points into the detections of this update, or is None when not observed.
    ``box`` is the Kalman estimate at this update's PTS.
    """

    uid: int
    track_id: int | None
    status: TrackStatus
    box: Box
    detection_index: int | None
    hits: int
    first_pts: float
    last_seen_pts: float
    just_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class TrackerUpdate:
    """What one :meth:`FaceTracker.update` or :meth:`FaceTracker.predict` call found.

    ``assignments[i]`` is the public id of the confirmed track that took detection ``i`` (None for a detection
    that is ignored or only feeds a tentative track). ``tracks`` are the live tracks, by uid; ``removed`` are the
    tracks removed by this call (status REMOVED).
    """

    pts: float
    assignments: tuple[int | None, ...]
    tracks: tuple[TrackState, ...]
    removed: tuple[TrackState, ...]


@dataclass(slots=True)
class _Track:
    uid: int
    status: TrackStatus
    first_pts: float
    last_seen_pts: float
    keypoints: np.ndarray  # (K, 2) last observed
    kp_centre: np.ndarray  # (2,) box centre when the keypoints were observed
    hits: int = 1
    track_id: int | None = None


def _cxcywh(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], axis=1)


class FaceTracker:
    """Multi-face tracker; call :meth:`update` on detection frames and :meth:`predict` on frames not detected.

    Deterministic: the same calls give the same ids. PTS must not go backwards (a backward step is treated as 0).
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._kf = KalmanBoxBank(self.config.pos_std, self.config.vel_std, self.config.meas_std)
        self._tracks: list[_Track] = []
        self._pts: float | None = None
        self._next_uid = 1
        self._next_id = 1

    @property
    def active_count(self) -> int:
        """Confirmed tracks currently seen (not lost)."""
        return sum(t.status is TrackStatus.CONFIRMED for t in self._tracks)

    def predict(self, pts: float) -> TrackerUpdate:
        """Advance the tracks to ``pts`` without a detection (a skipped frame): nothing is counted as a miss."""
        self._advance(pts)
        removed = self._expire(pts)
        return self._result(pts, 0, {}, set(), removed)

    def update(self, detections: Sequence[FaceDetection], pts: float) -> TrackerUpdate:
        """Associate this frame's detections with the tracks, at presentation time ``pts`` (seconds)."""
        cfg = self.config
        self._advance(pts)
        n_det = len(detections)
        scores = np.fromiter((d.score for d in detections), np.float64, n_det)
        boxes = np.array([[d.box.x1, d.box.y1, d.box.x2, d.box.y2] for d in detections], np.float64).reshape(-1, 4)
        kps = _stack_keypoints(detections)
        high = np.flatnonzero(scores >= cfg.high_score)
        low = np.flatnonzero((scores >= cfg.low_score) & (scores < cfg.high_score))
        pred = self._kf.boxes_xyxy() if self._tracks else np.zeros((0, 4))
        det_of: dict[int, int] = {}  # track row -> detection index

        # 1. high-score detections vs confirmed + lost tracks (IoU blended with keypoints)
        pool = [i for i, t in enumerate(self._tracks) if t.status is not TrackStatus.TENTATIVE]
        high_left = high
        if pool and len(high):
            sim = self._similarity(pool, pred, boxes[high], kps[high])
            pairs, rest_t, rest_d = match(1.0 - sim, 1.0 - cfg.min_similarity)
            det_of.update((pool[r], int(high[c])) for r, c in pairs)
            high_left = high[rest_d]
            pool = [pool[r] for r in rest_t]
        # 2. low-score detections vs the tracks still seen in the previous detection frame (IoU only)
        pool2 = [r for r in pool if self._tracks[r].status is TrackStatus.CONFIRMED]
        if pool2 and len(low):
            pairs, _, _ = match(1.0 - iou_matrix(pred[pool2], boxes[low]), 1.0 - cfg.min_similarity_low)
            det_of.update((pool2[r], int(low[c])) for r, c in pairs)
        # 3. remaining high-score detections vs tentative tracks (IoU only)
        pool3 = [i for i, t in enumerate(self._tracks) if t.status is TrackStatus.TENTATIVE]
        if pool3 and len(high_left):
            iou = iou_matrix(pred[pool3], boxes[high_left])
            pairs, _, rest_d = match(1.0 - iou, 1.0 - cfg.min_similarity_tentative)
            det_of.update((pool3[r], int(high_left[c])) for r, c in pairs)
            high_left = high_left[rest_d]
        new_dets = [int(d) for d in high_left if scores[d] >= cfg.new_track_score]

        confirmed_now = self._apply(det_of, boxes, kps, pts)
        det_by_uid = {self._tracks[r].uid: d for r, d in det_of.items()}
        det_by_uid.update(self._spawn(new_dets, boxes, kps, pts))
        removed = self._expire(pts)
        return self._result(pts, n_det, det_by_uid, confirmed_now, removed)

    # --- internals -------------------------------------------------------------------------------------------

    def _advance(self, pts: float) -> None:
        if self._pts is not None and self._tracks and pts > self._pts:
            lost = np.fromiter((t.status is TrackStatus.LOST for t in self._tracks), bool, len(self._tracks))
            self._kf.predict(pts - self._pts, freeze_size=lost)
        self._pts = pts if self._pts is None else max(self._pts, pts)

    def _similarity(self, rows: list[int], pred: np.ndarray, boxes: np.ndarray, kps: np.ndarray) -> np.ndarray:
        iou = iou_matrix(pred[rows], boxes)
        w = self.config.keypoint_weight
        if w <= 0 or not rows or not len(boxes):
            return iou
        shift = self._kf.pos[rows, 0:2] - np.stack([self._tracks[r].kp_centre for r in rows])
        track_kps = np.stack([self._tracks[r].keypoints for r in rows]) + shift[:, None, :]
        heights = self._kf.pos[rows, 3]
        kp_sim = keypoint_similarity(track_kps, kps, heights, self.config.keypoint_sigma, fallback=iou)
        return np.where(iou > 0, (1 - w) * iou + w * kp_sim, 0.0)  # never match boxes that do not overlap

    def _apply(self, det_of: dict[int, int], boxes: np.ndarray, kps: np.ndarray, pts: float) -> set[int]:
        if det_of:
            rows = np.array(sorted(det_of), dtype=np.intp)
            self._kf.update(rows, _cxcywh(boxes[[det_of[r] for r in rows]]))
        confirmed_now: set[int] = set()
        for i, t in enumerate(self._tracks):
            d = det_of.get(i)
            if d is None:
                if t.status is TrackStatus.CONFIRMED:
                    t.status = TrackStatus.LOST
                elif t.status is TrackStatus.TENTATIVE:
                    t.status = TrackStatus.REMOVED
                continue
            t.hits += 1
            t.last_seen_pts = pts
            t.keypoints = kps[d]
            t.kp_centre = self._kf.pos[i, 0:2].copy()
            if t.status is TrackStatus.LOST:
                t.status = TrackStatus.CONFIRMED
            elif t.status is TrackStatus.TENTATIVE and t.hits >= self.config.min_hits:
                self._confirm(t)
                confirmed_now.add(t.uid)
        return confirmed_now

    def _confirm(self, t: _Track) -> None:
        t.status = TrackStatus.CONFIRMED
        t.track_id = self._next_id
        self._next_id += 1

    def _spawn(self, new_dets: list[int], boxes: np.ndarray, kps: np.ndarray, pts: float) -> dict[int, int]:
        """Start a tentative track per detection; returns uid -> detection index."""
        if not new_dets:
            return {}
        self._kf.add(_cxcywh(boxes[new_dets]))
        spawned = {}
        for d in new_dets:
            t = _Track(self._next_uid, TrackStatus.TENTATIVE, pts, pts, kps[d], (boxes[d, :2] + boxes[d, 2:]) / 2)
            self._next_uid += 1
            if self.config.min_hits <= 1:
                self._confirm(t)
            self._tracks.append(t)
            spawned[t.uid] = d
        return spawned

    def _expire(self, pts: float) -> list[TrackState]:
        max_age = self.config.max_age_s
        for t in self._tracks:
            if t.status is TrackStatus.LOST and pts - t.last_seen_pts > max_age:
                t.status = TrackStatus.REMOVED
        keep = np.fromiter((t.status is not TrackStatus.REMOVED for t in self._tracks), bool, len(self._tracks))
        if keep.all():
            return []
        boxes = self._kf.boxes_xyxy()
        removed = [self._state(t, boxes[i], None, False) for i, t in enumerate(self._tracks) if not keep[i]]
        self._kf.keep(keep)
        self._tracks = [t for t, k in zip(self._tracks, keep, strict=True) if k]
        return removed

    def _result(
        self, pts: float, n_det: int, det_by_uid: dict[int, int], confirmed_now: set[int], removed: list[TrackState]
    ) -> TrackerUpdate:
        boxes = self._kf.boxes_xyxy()
        assignments: list[int | None] = [None] * n_det
        states = []
        for i, t in enumerate(self._tracks):
            d = det_by_uid.get(t.uid)
            if d is not None and t.track_id is not None:
                assignments[d] = t.track_id
            states.append(self._state(t, boxes[i], d, t.uid in confirmed_now))
        return TrackerUpdate(pts, tuple(assignments), tuple(states), tuple(removed))

    @staticmethod
    def _state(t: _Track, box: np.ndarray, det: int | None, just_confirmed: bool) -> TrackState:
        return TrackState(
            t.uid,
            t.track_id,
            t.status,
            Box(*(float(v) for v in box)),
            det,
            t.hits,
            t.first_pts,
            t.last_seen_pts,
            just_confirmed,
        )


def _stack_keypoints(detections: Sequence[FaceDetection]) -> np.ndarray:
    if not detections:
        return np.zeros((0, 6, 2))
    return np.stack([np.asarray(d.keypoints, np.float64).reshape(-1, 2) for d in detections])
