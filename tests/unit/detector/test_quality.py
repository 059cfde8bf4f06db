"""Quality flags on synthetic faces."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from emostream.core.types import Box, FaceDetection, QualityFlag
from emostream.detector.quality import QualityConfig, assess, estimate_pose, sharpness

MakeFace = Callable[..., FaceDetection]


FRAME = (480, 640)
SHARP = np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8)
FLAT = np.full((48, 48), 128, np.uint8)


@pytest.mark.parametrize(
    ("kwargs", "crop", "expected"),
    [
        ({}, SHARP, set()),
        ({"eye_distance": 8.0}, SHARP, {QualityFlag.TOO_SMALL}),
        ({}, FLAT, {QualityFlag.BLURRED}),
        ({"yaw": 0.6}, SHARP, {QualityFlag.TURNED}),
        ({"yaw": -0.6, "ears": False}, SHARP, {QualityFlag.TURNED}),
        ({"roll_deg": 60.0}, SHARP, {QualityFlag.TURNED}),
        ({"roll_deg": 30.0, "yaw": 0.2}, SHARP, set()),
        ({"cx": 630.0}, SHARP, {QualityFlag.CUT}),
        ({"cy": 0.0, "eye_distance": 8.0}, FLAT, {QualityFlag.CUT, QualityFlag.TOO_SMALL, QualityFlag.BLURRED}),
    ],
)
def test_flags(make_face: MakeFace, kwargs, crop, expected) -> None:
    face = make_face(**{"cx": 320.0, "cy": 240.0, "eye_distance": 40.0, **kwargs})
    assert assess(face, crop, FRAME) == expected


def test_outside_fraction_alone_flags_cut(make_face: MakeFace) -> None:
    face = make_face(cx=320.0, cy=240.0)
    assert QualityFlag.CUT in assess(face, SHARP, FRAME, outside=0.3)
    assert QualityFlag.CUT not in assess(face, SHARP, FRAME, outside=0.05)


def test_small_box_alone_flags_too_small(make_face: MakeFace) -> None:
    face = make_face(cx=320.0, cy=240.0, eye_distance=40.0)
    tiny_box = FaceDetection(Box(300, 220, 320, 240), face.score, face.keypoints)
    assert QualityFlag.TOO_SMALL in assess(tiny_box, SHARP, FRAME)


def test_ear_asymmetry_flags_a_turn_the_nose_misses(make_face: MakeFace) -> None:
    face = make_face(cx=320.0, cy=240.0, eye_distance=40.0)
    kps = face.keypoints.copy()
    kps[5] = kps[1] + [2.0, 0.0]  # left ear hidden behind its eye
    turned = FaceDetection(face.box, face.score, kps)
    assert estimate_pose(turned.keypoints).ear_asymmetry > 0.75
    assert assess(turned, SHARP, FRAME) == {QualityFlag.TURNED}


@pytest.mark.parametrize(("yaw", "roll"), [(0.0, 0.0), (0.3, 20.0), (-0.2, -45.0)])
def test_pose_estimate(make_face: MakeFace, yaw, roll) -> None:
    pose = estimate_pose(make_face(yaw=yaw, roll_deg=roll).keypoints)
    assert pose.yaw_ratio == pytest.approx(yaw, abs=1e-5)
    assert pose.roll_deg == pytest.approx(roll, abs=1e-3)
    assert pose.ear_asymmetry == pytest.approx(0.0, abs=1e-5)


def test_thresholds_are_configurable(make_face: MakeFace) -> None:
    face = make_face(cx=320.0, cy=240.0, yaw=0.3)
    assert assess(face, SHARP, FRAME) == set()
    assert assess(face, SHARP, FRAME, QualityConfig(max_yaw_ratio=0.2)) == {QualityFlag.TURNED}
    assert sharpness(SHARP) > QualityConfig().min_sharpness > sharpness(FLAT)
