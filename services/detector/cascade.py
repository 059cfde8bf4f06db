"""The default video detector: a thorough pass every N frames, a fast pass that follows faces between.

- ``detect(frame, thorough=True)``: CenterFace at ``thorough.input_long_side`` (small faces on
  big frames, faces cut by the frame edge). With ``refine_thorough`` each face is then re-detected
  by BlazeFace short-range on a square around it, so that boxes and keypoints have the same
  conventions on every frame (CenterFace's eyes are ~7% further apart than BlazeFace's, and it has
  no ears); faces BlazeFace cannot confirm keep CenterFace's detection.
- ``detect(frame, thorough=False)``: BlazeFace full-range on the letterboxed frame, plus one
  BlazeFace short-range pass per *small* face of the previous call, on a square of
  ``roi_scale`` x its width around it (all such squares in one ORT batch). Small faces found by
  the thorough pass are so followed from frame to frame at about 1.5 ms per face.
  With few faces (at most ``track_max_faces``) the full-range pass is skipped on most fast
  frames: every face is followed by the short-range pass alone (~1.5 ms a face instead of ~5 ms a
  frame), and the full-range pass runs every ``full_every`` fast frames to pick up new faces, or
  at once when a followed face is lost.

The caller chooses the rhythm (``thorough`` every N frames, always for photos). The object
remembers the previous call's faces (its :class:`FollowState`): use one instance per video stream, and
``reset()`` at a cut. ``fork()`` gives another stream its own instance on the same ONNX sessions (the models
are loaded once), and ``warm_up()`` runs every session once without touching any stream's state.

Example::

    detector = CascadeDetector()
    for seq, frame in enumerate(frames):
        faces = detector.detect(frame, thorough=seq % 5 == 0)
    other_camera = detector.fork()  # same models, its own follow state
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from emostream.core.types import FaceDetection
from emostream.detector.base import to_detections
from emostream.detector.blazeface import BlazeFaceConfig, BlazeFaceDetector
from emostream.detector.centerface import CenterFaceConfig, CenterFaceDetector
from emostream.detector.nms import iou_one_to_many, weighted_nms
from emostream.detector.regions import around


@dataclass(frozen=True)
class CascadeConfig:
    """Settings of :class:`CascadeDetector`; ``intra_op_threads`` applies to all three sessions."""

    fast: BlazeFaceConfig = field(default_factory=lambda: BlazeFaceConfig(variant="full", score_threshold=0.6))
    thorough: CenterFaceConfig = field(default_factory=lambda: CenterFaceConfig(input_long_side=640))
    follow: BlazeFaceConfig | None = field(default_factory=lambda: BlazeFaceConfig(variant="short"))
    roi_scale: float = 3.0  # side of the square searched around a previous face / its width
    roi_min_side: float = 64.0
    follow_below: float = 0.1  # follow faces narrower than this fraction of the frame's long side
    max_follow: int = 16
    refine_thorough: bool = True
    track_max_faces: int = 3  # follow-only fast frames while the previous call found at most this many
    full_every: int = 5  # ... with the full-range pass every N fast frames all the same (0: never skip it)
    nms_iou: float = 0.3
    intra_op_threads: int = 1


@dataclass
class FollowState:
    """What a :class:`CascadeDetector` remembers of one stream: the previous call's faces, the frame shape
    they belong to, and the fast frames since the last full-range pass."""

    previous: list[FaceDetection] = field(default_factory=list)
    shape: tuple[int, ...] = ()
    since_full: int = 0


class CascadeDetector:
    """Thorough CenterFace pass on demand, fast BlazeFace pass otherwise. Implements ``FaceDetector``."""

    def __init__(self, config: CascadeConfig | None = None) -> None:
        self.config = cfg = config or CascadeConfig()
        threads = cfg.intra_op_threads
        self.fast = BlazeFaceDetector(replace(cfg.fast, intra_op_threads=threads))
        self.thorough = CenterFaceDetector(replace(cfg.thorough, intra_op_threads=threads))
        self.follow = BlazeFaceDetector(replace(cfg.follow, intra_op_threads=threads)) if cfg.follow else None
        self.state = FollowState()

    def fork(self) -> CascadeDetector:
        """A detector for another stream: the same ONNX sessions (not loaded again), a fresh follow state.
        Forks share the sessions' scratch buffers, so use them from one thread (one replica) only."""
        other = copy.copy(self)
        other.state = FollowState()
        return other

    def reset(self) -> None:
        """Forget the previous faces (a new stream or a scene cut)."""
        self.state.previous = []
        self.state.since_full = 0

    def warm_up(self, image_bgr: np.ndarray) -> None:
        """Run each session once on ``image_bgr`` (a blank frame will do), so that the first real frames do not
        pay ONNX Runtime's first-run costs; the follow state is left as it was."""
        self.thorough.detect(image_bgr, thorough=True)
        self.fast.detect(image_bgr, thorough=False)
        if self.follow is not None:
            height, width = image_bgr.shape[:2]
            side = max(self.config.roi_min_side, self.config.roi_scale * self.config.follow_below * max(height, width))
            self.follow.detect_regions(image_bgr, [around(width / 2, height / 2, side)])

    def detect(self, image_bgr: np.ndarray, thorough: bool = True) -> list[FaceDetection]:
        """Faces in a BGR frame, best score first; see the module docstring for the two passes."""
        if image_bgr.shape != self.state.shape:
            self.state.shape = image_bgr.shape
            self.reset()
        if thorough:
            faces = self.thorough.detect(image_bgr, thorough=True)
            if self.config.refine_thorough:
                faces = self._refine(image_bgr, faces)
        else:
            faces = self._fast(image_bgr)
        self.state.previous = faces
        return faces

    def _fast(self, image_bgr: np.ndarray) -> list[FaceDetection]:
        followed = self._follow_only(image_bgr)
        if followed is not None:
            self.state.since_full += 1
            return followed
        self.state.since_full = 0
        cfg = self.config
        faces = self.fast.detect(image_bgr, thorough=False)
        long_side = max(image_bgr.shape[:2])
        small = [f for f in self.state.previous if f.box.width < cfg.follow_below * long_side][: cfg.max_follow]
        if self.follow is None or not small:
            return faces
        regions = [around(*f.box.centre, max(cfg.roi_min_side, cfg.roi_scale * f.box.width)) for f in small]
        followed = self.follow.detect_regions(image_bgr, regions)
        return merge([*faces, *followed], cfg.nms_iou)

    def _follow_only(self, image_bgr: np.ndarray) -> list[FaceDetection] | None:
        """Every previous face re-found around itself, or None when the full-range pass must run."""
        cfg = self.config
        previous = self.state.previous
        if (
            self.follow is None
            or cfg.full_every <= 0
            or not previous
            or len(previous) > cfg.track_max_faces
            or self.state.since_full + 1 >= cfg.full_every
        ):
            return None
        regions = [around(*f.box.centre, max(cfg.roi_min_side, cfg.roi_scale * f.box.width)) for f in previous]
        faces = merge(self.follow.detect_regions(image_bgr, regions), cfg.nms_iou)
        return faces if len(faces) >= len(previous) else None

    def _refine(self, image_bgr: np.ndarray, faces: list[FaceDetection]) -> list[FaceDetection]:
        """Replace each face by BlazeFace's detection around it, where BlazeFace finds one."""
        if self.follow is None or not faces:
            return faces
        cfg = self.config
        regions = [around(*f.box.centre, max(cfg.roi_min_side, cfg.roi_scale * f.box.width)) for f in faces]
        refined = self.follow.detect_regions(image_bgr, regions)
        if not refined:
            return faces
        boxes = np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in refined], np.float32)
        out, used = [], set()
        for face in faces:
            iou = iou_one_to_many(np.array([face.box.x1, face.box.y1, face.box.x2, face.box.y2]), boxes)
            best = int(iou.argmax())
            if iou[best] > cfg.nms_iou and best not in used:
                used.add(best)
                out.append(refined[best])
            else:
                out.append(face)
        return sorted(out, key=lambda f: -f.score)


def merge(faces: list[FaceDetection], iou: float) -> list[FaceDetection]:
    """Weighted NMS over detections from several passes (all with (6, 2) keypoints)."""
    if len(faces) < 2:
        return faces
    boxes = np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in faces], np.float32)
    scores = np.array([f.score for f in faces], np.float32)
    kps = np.stack([f.keypoints for f in faces])
    return to_detections(*weighted_nms(boxes, scores, kps, iou))
