"""MediaPipe BlazeFace (short- or full-range) on ONNX Runtime, with optional batched tiles.

One ORT call per frame: the letterboxed frame and, when configured, square tiles are resized
into one NHWC batch. Detections are decoded only for anchors above the score threshold, mapped
back to frame pixels, and merged across regions with weighted NMS.

Example::

    detector = BlazeFaceDetector(BlazeFaceConfig(variant="full", tile_side=480))
    faces = detector.detect(frame_bgr)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from emostream.core.types import FaceDetection
from emostream.detector.anchors import FULL_RANGE, SHORT_RANGE, AnchorSpec, generate_anchors
from emostream.detector.base import to_detections
from emostream.detector.nms import weighted_nms
from emostream.detector.regions import Mapping, Region, fill, letterbox, tiles
from emostream.detector.runtime import MODEL_DIR, create_session

Variant = Literal["short", "full"]
_SPECS: dict[str, tuple[str, AnchorSpec]] = {
    "short": ("blazeface_short_range.onnx", SHORT_RANGE),
    "full": ("blazeface_full_range.onnx", FULL_RANGE),
}
RAW_SCORE_LIMIT = 80.0  # MediaPipe clips logits to +-100; 80 keeps float32 sigmoid finite


@dataclass(frozen=True)
class BlazeFaceConfig:
    """BlazeFace settings.

    ``tile_side`` (frame pixels) turns on tiling for the thorough pass: the frame is covered by
    square tiles of that side, overlapping by ``tile_overlap``, batched with the letterboxed whole
    frame. Tiles are used only when the frame's long side exceeds ``tile_min_frame`` pixels.
    Faces wider than ``tile_max_face`` x tile side are taken from the whole-frame pass only.
    """

    variant: Variant = "full"
    score_threshold: float = 0.5
    nms_iou: float = 0.3
    tile_side: int | None = None
    tile_overlap: int = 128
    tile_min_frame: int = 960
    tile_max_face: float = 0.5
    intra_op_threads: int = 1
    model_path: Path | None = None


def decode(raw: np.ndarray, anchors: np.ndarray, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode BlazeFace regressors (K, 16) of K anchors (K, 2) into boxes and keypoints.

    Returns xyxy boxes (K, 4) and keypoints (K, 6, 2) in input pixels.
    """
    pts = raw.reshape(-1, 8, 2) + anchors[:, None, :] * input_size
    centre, size = pts[:, 0], raw[:, 2:4]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    return boxes, pts[:, 2:]


def sigmoid_scores(logits: np.ndarray) -> np.ndarray:
    """Scores from raw logits, clipped like MediaPipe's ``sigmoid_score`` with a score clip."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))


class BlazeFaceDetector:
    """BlazeFace face detector; see :class:`BlazeFaceConfig`. Implements ``FaceDetector``."""

    def __init__(self, config: BlazeFaceConfig | None = None) -> None:
        self.config = config or BlazeFaceConfig()
        file_name, self.spec = _SPECS[self.config.variant]
        self.session = create_session(self.config.model_path or MODEL_DIR / file_name, self.config.intra_op_threads)
        self.input_name = self.session.get_inputs()[0].name
        self.anchors = generate_anchors(self.spec)
        self._logit_threshold = math.log(self.config.score_threshold / (1 - self.config.score_threshold))
        self._buffer = np.zeros((0, self.spec.input_size, self.spec.input_size, 3), np.uint8)

    def regions(self, height: int, width: int, thorough: bool = True) -> list[Region]:
        """The regions run for a frame of this size: the whole frame, then tiles if configured."""
        out = [letterbox(height, width)]
        cfg = self.config
        if thorough and cfg.tile_side and max(height, width) > cfg.tile_min_frame:
            out += tiles(height, width, cfg.tile_side, cfg.tile_overlap, cfg.tile_max_face)
        return out

    def detect(self, image_bgr: np.ndarray, thorough: bool = True) -> list[FaceDetection]:
        """Faces in a BGR frame; ``thorough`` adds the tiles (if configured) to the whole-frame pass."""
        regions = self.regions(image_bgr.shape[0], image_bgr.shape[1], thorough=thorough)
        return self.detect_regions(image_bgr, regions)

    def detect_regions(self, image_bgr: np.ndarray, regions: list[Region]) -> list[FaceDetection]:
        """Run all ``regions`` of the frame as one batch and merge their detections."""
        size = self.spec.input_size
        if self._buffer.shape[0] < len(regions):
            self._buffer = np.zeros((len(regions), size, size, 3), np.uint8)
        batch = self._buffer[: len(regions)]
        mappings = [fill(image_bgr, r, batch[i]) for i, r in enumerate(regions)]
        x = batch[..., ::-1].astype(np.float32)  # BGR -> RGB
        x *= 1 / 127.5
        x -= 1.0
        raw_boxes, raw_scores = self.session.run(None, {self.input_name: x})
        return self._postprocess(raw_boxes, raw_scores[..., 0], regions, mappings)

    def _postprocess(
        self, raw_boxes: np.ndarray, logits: np.ndarray, regions: list[Region], mappings: list[Mapping]
    ) -> list[FaceDetection]:
        boxes_all, scores_all, kps_all = [], [], []
        for i, (region, mapping) in enumerate(zip(regions, mappings, strict=True)):
            idx = np.flatnonzero(logits[i] > self._logit_threshold)
            if idx.size == 0:
                continue
            boxes, kps = decode(raw_boxes[i, idx], self.anchors[idx], self.spec.input_size)
            width = boxes[:, 2] - boxes[:, 0]
            keep = (width > 0) & (boxes[:, 3] > boxes[:, 1]) & (width < region.max_face * self.spec.input_size)
            boxes = mapping.to_frame(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
            cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
            x1, y1, x2, y2 = region.core
            keep &= (cx >= x1) & (cx < x2) & (cy >= y1) & (cy < y2)
            boxes_all.append(boxes[keep])
            kps_all.append(mapping.to_frame(kps)[keep])
            scores_all.append(sigmoid_scores(logits[i, idx])[keep])
        if not boxes_all:
            return []
        boxes, scores, kps = weighted_nms(
            np.concatenate(boxes_all), np.concatenate(scores_all), np.concatenate(kps_all), self.config.nms_iou
        )
        return to_detections(boxes, scores, kps)
