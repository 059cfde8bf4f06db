"""Alignment geometry: after the warp, the eyes land where AlignGeometry says."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from emostream.core.types import FaceDetection, QualityFlag
from emostream.detector.align import AlignGeometry, FaceAligner, align_crop, alignment_matrix, outside_fraction

MakeFace = Callable[..., FaceDetection]


def blob_image(points: np.ndarray, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """A BGR frame with a bright Gaussian blob at each point (dark elsewhere)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    img = np.zeros(shape, np.float32)
    for x, y in points:
        img += np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
    return cv2.cvtColor(np.clip(img * 255, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def blob_centres(crop: np.ndarray) -> np.ndarray:
    """Intensity-weighted centres of the left and right halves' blobs."""
    out = []
    h, w = crop.shape
    for x0, x1 in ((0, w // 2), (w // 2, w)):
        part = crop[:, x0:x1].astype(np.float64)
        part[part < part.max() * 0.3] = 0
        ys, xs = np.mgrid[:h, x0:x1]
        out.append([(xs * part).sum() / part.sum() + 0.5, (ys * part).sum() / part.sum() + 0.5])
    return np.array(out)


@pytest.mark.parametrize(
    ("eye_distance", "roll", "geometry"),
    [
        (30.0, 0.0, AlignGeometry()),
        (40.0, 25.0, AlignGeometry()),
        (200.0, -35.0, AlignGeometry()),  # big face: supersampled warp then INTER_AREA
        (60.0, 10.0, AlignGeometry(eye_distance=0.30, eye_y=0.45)),
        (60.0, 0.0, AlignGeometry(eye_distance=0.40, eye_y=0.35, size=64)),
    ],
)
def test_eyes_land_on_the_geometry_targets(make_face: MakeFace, eye_distance, roll, geometry) -> None:
    face = make_face(cx=320, cy=240, eye_distance=eye_distance, roll_deg=roll)
    image = blob_image(face.keypoints[:2], (480, 640), sigma=eye_distance / 12)
    crop = align_crop(image, face.keypoints, geometry)
    assert crop.shape == (geometry.size, geometry.size) and crop.dtype == np.uint8
    np.testing.assert_allclose(blob_centres(crop), geometry.eye_targets(), atol=0.75)


def test_matrix_maps_eyes_exactly(make_face: MakeFace) -> None:
    face = make_face(eye_distance=57, roll_deg=-17)
    geometry = AlignGeometry(eye_distance=0.33, eye_y=0.41)
    m = alignment_matrix(face.keypoints[0], face.keypoints[1], geometry)
    eyes = np.c_[face.keypoints[:2], np.ones(2)] @ m.T
    np.testing.assert_allclose(eyes, geometry.eye_targets(), atol=1e-4)


def test_coincident_eyes_are_rejected() -> None:
    with pytest.raises(ValueError):
        alignment_matrix(np.array([5.0, 5.0]), np.array([5.0, 5.0]), AlignGeometry())


def test_outside_fraction(make_face: MakeFace) -> None:
    inside = make_face(cx=320, cy=240, eye_distance=40)
    assert outside_fraction(inside.keypoints, (480, 640)) == 0.0
    at_edge = make_face(cx=0, cy=240, eye_distance=40)  # eye midpoint on the left edge
    assert outside_fraction(at_edge.keypoints, (480, 640)) == pytest.approx(0.5)


def test_aligner_returns_crops_and_flags(make_face: MakeFace) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)  # sharp texture
    faces = FaceAligner().align(image, [make_face(cx=320, cy=240, eye_distance=40), make_face(cx=5, cy=240)])
    assert [f.crop.shape for f in faces] == [(48, 48), (48, 48)]
    assert faces[0].usable
    assert QualityFlag.CUT in faces[1].quality
