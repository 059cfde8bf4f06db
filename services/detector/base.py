"""The detector interface shared by every face detector, and array -> FaceDetection conversion."""

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
