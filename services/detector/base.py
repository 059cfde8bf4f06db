"""The detector interface shared by every face detector, per-stream instances and warm-up, and
array -> FaceDetection conversion."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from emostream.core.types import Box, FaceDetection


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in a BGR frame.

    ``thorough`` asks for the slower, more complete pass (small faces on big frames). A caller on a
    budget runs it every N frames and the fast pass in between; detectors without such a pass
    ignore it.
    """

    def detect(self, image_bgr: np.ndarray, thorough: bool = True) -> list[FaceDetection]:
        """Faces in ``image_bgr`` (H, W, 3) uint8, best score first, in frame pixels."""
        ...


@runtime_checkable
class StreamDetector(FaceDetector, Protocol):
    """A detector that remembers previous frames (``CascadeDetector`` follows the faces it found), so that one
    instance serves one stream: ``fork()`` gives another stream its own, on the same models."""

    def fork(self) -> StreamDetector:
        """Another instance with the same (already loaded) models and a fresh per-stream state."""
        ...

    def warm_up(self, image_bgr: np.ndarray) -> None:
        """Run every model once on ``image_bgr``, leaving the per-stream state as it was."""
        ...


def for_stream(detector: FaceDetector) -> FaceDetector:
    """A detector for one more stream: a fork of a :class:`StreamDetector`, any other (stateless) one itself."""
    return detector.fork() if isinstance(detector, StreamDetector) else detector


def warm_up(detector: FaceDetector, image_bgr: np.ndarray) -> None:
    """Pay the models' first-run costs (ONNX Runtime's allocations and kernel set-up) on ``image_bgr`` rather
    than on the first real frame: both passes of a stateless detector, every model of a stream detector."""
    if isinstance(detector, StreamDetector):
        detector.warm_up(image_bgr)
        return
    detector.detect(image_bgr, thorough=True)
    detector.detect(image_bgr, thorough=False)


def to_detections(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray) -> list[FaceDetection]:
    """Wrap (K, 4) xyxy boxes, (K,) scores and (K, 6, 2) keypoints into FaceDetection objects."""
    return [
        FaceDetection(
            box=Box(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            score=float(s),
            keypoints=np.ascontiguousarray(k, dtype=np.float32),
        )
        for b, s, k in zip(boxes, scores, keypoints, strict=True)
    ]
