"""SSD anchor centres for the BlazeFace models (after MediaPipe's ``ssd_anchors_calculator``).

BlazeFace uses a fixed anchor size of 1 (``fixed_anchor_size: true``), so an anchor is only a
centre; box sizes are regressed in input pixels.

>>> generate_anchors(SHORT_RANGE).shape
(896, 2)
>>> generate_anchors(FULL_RANGE).shape
(2304, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorSpec:
    """The subset of MediaPipe's SsdAnchorsCalculatorOptions that BlazeFace needs."""

    input_size: int
    strides: tuple[int, ...]
    anchors_per_cell: tuple[int, ...]  # per stride group, after MediaPipe merges equal strides
    offset: float = 0.5


# mediapipe/modules/face_detection/face_detection_short_range_common.pbtxt: strides 8,16,16,16 with
# 2 aspect ratios (1.0 and the interpolated one) per layer: stride 8 -> 2 anchors, stride 16 -> 6.
SHORT_RANGE = AnchorSpec(input_size=128, strides=(8, 16), anchors_per_cell=(2, 6))
# face_detection_full_range_common.pbtxt: one layer, stride 4, interpolated_scale_aspect_ratio 0.
FULL_RANGE = AnchorSpec(input_size=192, strides=(4,), anchors_per_cell=(1,))


def generate_anchors(spec: AnchorSpec) -> np.ndarray:
    """Anchor centres as (A, 2) float32 (x, y), normalised to [0, 1], in the model's output order."""
    parts = []
    for stride, repeats in zip(spec.strides, spec.anchors_per_cell, strict=True):
        cells = spec.input_size // stride
        centres = (np.arange(cells, dtype=np.float32) + spec.offset) / cells
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        parts.append(np.repeat(grid, repeats, axis=0))
    return np.concatenate(parts).astype(np.float32)
