from __future__ import annotations

import numpy as np
import pytest

from emostream.detector.nms import iou_one_to_many, nms, weighted_nms

B = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32)


@pytest.mark.parametrize(
    ("other", "expected"),
    [([0, 0, 10, 10], 1.0), ([5, 0, 15, 10], 1 / 3), ([20, 20, 30, 30], 0.0), ([0, 0, 5, 10], 0.5)],
)
def test_iou(other, expected) -> None:
    iou = iou_one_to_many(np.array([0, 0, 10, 10], np.float32), np.array([other], np.float32))
    assert iou[0] == pytest.approx(expected)


def test_nms_keeps_best_of_each_cluster() -> None:
    keep = nms(B, np.array([0.6, 0.9, 0.8, 0.1]), iou_threshold=0.3)
    assert keep.tolist() == [1, 2]


def test_weighted_nms_averages_by_score() -> None:
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [100, 100, 110, 110]], np.float32)
    scores = np.array([0.75, 0.25, 0.5], np.float32)
    kps = np.array([[[0.0, 0.0]], [[4.0, 0.0]], [[9.0, 9.0]]], np.float32)
    out_boxes, out_scores, out_kps = weighted_nms(boxes, scores, kps, iou_threshold=0.3)
    np.testing.assert_allclose(out_boxes[0], [0.5, 0, 10.5, 10])
    np.testing.assert_allclose(out_kps[0], [[1.0, 0.0]])
    np.testing.assert_allclose(out_scores, [0.75, 0.5])  # a cluster keeps its best score
    np.testing.assert_allclose(out_boxes[1], boxes[2])


def test_weighted_nms_empty() -> None:
    boxes, scores, kps = weighted_nms(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 6, 2)), 0.3)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and kps.shape == (0, 6, 2)
