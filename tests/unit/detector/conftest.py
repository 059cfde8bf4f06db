"""Fixtures for the detector's pure tests: synthetic detections with chosen keypoints."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from emostream.core.types import Box, FaceDetection

MakeFace = Callable[..., FaceDetection]


def face_at(
    cx: float = 100.0, cy: float = 100.0, eye_distance: float = 40.0, roll_deg: float = 0.0, yaw: float = 0.0,
    box_scale: float = 2.5, ears: bool = True,
) -> FaceDetection:
    """A plausible detection centred on (cx, cy): eyes ``eye_distance`` apart, rolled and with the
    nose shifted along the eye line by ``yaw`` x eye distance."""
    a = np.radians(roll_deg)
    u = np.array([np.cos(a), np.sin(a)])  # along the eye line (image left -> right)
    v = np.array([-np.sin(a), np.cos(a)])  # down the face
    c = np.array([cx, cy])
    d = eye_distance
    kps = np.array([
        c - u * d / 2,  # right eye (image left)
        c + u * d / 2,  # left eye
        c + v * 0.6 * d + u * yaw * d,  # nose
        c + v * 1.1 * d,  # mouth
        c - u * d * 1.1 + v * 0.3 * d,  # right ear
        c + u * d * 1.1 + v * 0.3 * d,  # left ear
    ], dtype=np.float32)
    if not ears:
        kps[4:] = np.nan
    half = box_scale * d / 2
    return FaceDetection(Box(cx - half, cy - half * 0.8, cx + half, cy + half * 1.2), 0.9, kps)


@pytest.fixture
def make_face() -> MakeFace:
    return face_at
