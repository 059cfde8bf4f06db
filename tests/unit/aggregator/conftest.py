"""Synthetic detections and frames for the aggregator tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from emostream.core.labels import EMOTIONS
from emostream.core.types import (
    AlignedFace,
    Box,
    ClassifiedFace,
    FaceDetection,
    FrameDetections,
    FrameMeta,
    QualityFlag,
)

# Keypoint offsets of a frontal face, as fractions of the box size from its centre (eyes, nose, mouth, ears).
_KP_OFFSETS = np.array([[-0.2, -0.15], [0.2, -0.15], [0.0, 0.05], [0.0, 0.25], [-0.45, 0.0], [0.45, 0.0]])
_CROP = np.zeros((48, 48), np.uint8)

DetFactory = Callable[..., FaceDetection]
FaceFactory = Callable[..., ClassifiedFace]
FrameFactory = Callable[..., FrameDetections]


def make_detection(cx: float, cy: float, size: float = 60.0, score: float = 0.9) -> FaceDetection:
    """A square face box centred on (cx, cy) with plausible keypoints."""
    half = size / 2
    kps = (np.array([cx, cy]) + _KP_OFFSETS * size).astype(np.float32)
    return FaceDetection(Box(cx - half, cy - half, cx + half, cy + half), score, kps)


def one_hot(label: str, p: float = 0.9) -> np.ndarray:
    """Probabilities with ``p`` on ``label`` and the rest spread evenly."""
    out = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1), np.float32)
    out[EMOTIONS.index(label)] = p
    return out


def make_face(
    cx: float,
    cy: float,
    label: str | None = "neutral",
    size: float = 60.0,
    score: float = 0.9,
    quality: Sequence[QualityFlag] = (),
) -> ClassifiedFace:
    """A classified face; ``label=None`` (or any quality flag) makes it unusable."""
    det = make_detection(cx, cy, size, score)
    aligned = AlignedFace(det, _CROP, frozenset(quality))
    probs = None if label is None or quality else one_hot(label)
    return ClassifiedFace(aligned, probs)


def make_frame(seq: int, fps: float, faces: Sequence[ClassifiedFace] = ()) -> FrameDetections:
    """A frame at ``seq / fps`` seconds."""
    meta = FrameMeta("cam", seq, seq / fps, 1_700_000_000.0 + seq / fps, 640, 480)
    return FrameDetections(meta, tuple(faces))


@pytest.fixture
def det() -> DetFactory:
    return make_detection


@pytest.fixture
def face() -> FaceFactory:
    return make_face


@pytest.fixture
def frame() -> FrameFactory:
    return make_frame


@pytest.fixture
def probs() -> Callable[..., np.ndarray]:
    return one_hot
