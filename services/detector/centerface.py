"""CenterFace (anchor-free, any input size) on ONNX Runtime.

The frame is resized so that its long side is ``input_long_side`` (rounded to a multiple of 32).
CenterFace gives 5 landmarks (eyes, nose, mouth corners); they are mapped to BlazeFace's six
keypoints with the mouth as the corners' midpoint and the ears as NaN (not detected).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emostream.core.types import FaceDetection
from emostream.detector.base import to_detections
from emostream.detector.nms import nms
from emostream.detector.regions import shrink
from emostream.detector.runtime import MODEL_DIR, create_session

STRIDE = 4


@dataclass(frozen=True)
class CenterFaceConfig:
    """CenterFace settings.

    ``input_long_side`` is the network input's long side (frames are never enlarged);
    ``thorough_long_side``, if set, replaces it for ``detect(..., thorough=True)``.
    """

    input_long_side: int = 640
    thorough_long_side: int | None = None
    score_threshold: float = 0.5
    nms_iou: float = 0.3
    intra_op_threads: int = 1
    model_path: Path | None = None


def input_size(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(width, height) of the network input: long side ``long_side``, both multiples of 32."""
    scale = min(1.0, long_side / max(height, width))
    return max(32, round(width * scale / 32) * 32), max(32, round(height * scale / 32) * 32)


def decode(
    heatmap: np.ndarray, scale: np.ndarray, offset: np.ndarray, landmarks: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's CenterFace outputs (C, h, w each) into input-pixel detections.

    Returns boxes (K, 4) xyxy, scores (K,), landmarks (K, 5, 2).
    """
    ys, xs = np.nonzero(heatmap[0] > threshold)
    h = np.exp(scale[0, ys, xs]) * STRIDE
    w = np.exp(scale[1, ys, xs]) * STRIDE
    x1 = (xs + offset[1, ys, xs] + 0.5) * STRIDE - w / 2
    y1 = (ys + offset[0, ys, xs] + 0.5) * STRIDE - h / 2
    boxes = np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    lm = landmarks[:, ys, xs].T.reshape(-1, 5, 2)[..., ::-1]  # stored as (y, x) pairs
    lm = lm * np.stack([w, h], axis=1)[:, None, :] + np.stack([x1, y1], axis=1)[:, None, :]
    return boxes, heatmap[0, ys, xs], lm


def to_six_keypoints(lm5: np.ndarray) -> np.ndarray:
    """(K, 5, 2) CenterFace landmarks -> (K, 6, 2) BlazeFace order; ears are NaN."""
    out = np.full((lm5.shape[0], 6, 2), np.nan, dtype=np.float32)
    out[:, 0:3] = lm5[:, 0:3]  # image-left eye (subject's right), other eye, nose
    out[:, 3] = (lm5[:, 3] + lm5[:, 4]) / 2
    return out


class CenterFaceDetector:
    """CenterFace face detector; see :class:`CenterFaceConfig`. Implements ``FaceDetector``."""

    def __init__(self, config: CenterFaceConfig | None = None) -> None:
        self.config = config or CenterFaceConfig()
        self.session = create_session(
            self.config.model_path or MODEL_DIR / "centerface.onnx", self.config.intra_op_threads
        )
        self.input_name = self.session.get_inputs()[0].name

    def detect(self, image_bgr: np.ndarray, thorough: bool = True) -> list[FaceDetection]:
        """Faces in a BGR frame, resized to the configured long side (the thorough one if asked)."""
        cfg = self.config
        height, width = image_bgr.shape[:2]
        long_side = cfg.thorough_long_side if thorough and cfg.thorough_long_side else cfg.input_long_side
        in_w, in_h = input_size(height, width, long_side)
        resized, used_w, used_h = shrink(image_bgr, in_w, in_h)
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        blob = rgb.transpose(2, 0, 1)[None].astype(np.float32)
        heat, scale, offset, lms = self.session.run(None, {self.input_name: blob})
        boxes, scores, lm5 = decode(heat[0], scale[0], offset[0], lms[0], cfg.score_threshold)
        if boxes.shape[0] == 0:
            return []
        keep = nms(boxes, scores, cfg.nms_iou)
        sx, sy = used_w / in_w, used_h / in_h
        boxes = boxes[keep] * np.array([sx, sy, sx, sy], np.float32)
        lm = to_six_keypoints(lm5[keep] * np.array([sx, sy], np.float32))
        return to_detections(boxes, scores[keep], lm)
