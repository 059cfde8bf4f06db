from __future__ import annotations

from collections.abc import Callable

from emostream.core.types import FaceDetection
from emostream.detector.cascade import merge

MakeFace = Callable[..., FaceDetection]


def test_merge_fuses_the_same_face_from_two_passes(make_face: MakeFace) -> None:
    a = make_face(cx=100, cy=100)
    b = make_face(cx=103, cy=100)
    c = make_face(cx=400, cy=100)
    merged = merge([a, b, c], iou=0.3)
    assert len(merged) == 2
    assert 100 < merged[0].box.centre[0] < 103
    assert merged[0].keypoints.shape == (6, 2)


def test_merge_passes_through_single() -> None:
    assert merge([], 0.3) == []
