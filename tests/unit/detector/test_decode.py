"""Decoding of raw model outputs into boxes and keypoints, on synthetic tensors."""

from __future__ import annotations

import numpy as np
import pytest

from emostream.detector.blazeface import decode, sigmoid_scores
from emostream.detector.centerface import STRIDE, to_six_keypoints
from emostream.detector.centerface import decode as cf_decode


def test_blazeface_decode_offsets_from_anchor_in_input_pixels() -> None:
    anchors = np.array([[0.5, 0.25]], np.float32)
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [2, -3, 20, 10]  # dx, dy, w, h
    raw[0, 4:6] = [-5, -6]  # first keypoint offset
    boxes, kps = decode(raw, anchors, input_size=128)
    np.testing.assert_allclose(boxes[0], [66 - 10, 29 - 5, 66 + 10, 29 + 5])
    np.testing.assert_allclose(kps[0, 0], [59, 26])
    np.testing.assert_allclose(kps[0, 1:], [[64, 32]] * 5)


def test_sigmoid_scores_are_clipped_and_finite() -> None:
    scores = sigmoid_scores(np.array([-1e4, 0.0, 1e4], np.float32))
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores, [0, 0.5, 1], atol=1e-6)


def test_centerface_decode_one_peak() -> None:
    h, w = 8, 10
    heat = np.zeros((1, h, w), np.float32)
    heat[0, 3, 4] = 0.9
    scale = np.full((2, h, w), np.log(2.0), np.float32)  # 2 * STRIDE = 8 px high and wide
    offset = np.zeros((2, h, w), np.float32)
    lms = np.zeros((10, h, w), np.float32)
    lms[0, 3, 4], lms[1, 3, 4] = 0.25, 0.5  # first landmark: y then x, as fractions of the box
    boxes, scores, lm = cf_decode(heat, scale, offset, lms, threshold=0.5)
    cx, cy = (4 + 0.5) * STRIDE, (3 + 0.5) * STRIDE
    np.testing.assert_allclose(boxes[0], [cx - 4, cy - 4, cx + 4, cy + 4])
    assert scores.tolist() == pytest.approx([0.9])
    np.testing.assert_allclose(lm[0, 0], [cx - 4 + 0.5 * 8, cy - 4 + 0.25 * 8])


def test_centerface_landmarks_become_six_keypoints_without_ears() -> None:
    lm5 = np.arange(10, dtype=np.float32).reshape(1, 5, 2)
    six = to_six_keypoints(lm5)
    np.testing.assert_allclose(six[0, :3], lm5[0, :3])
    np.testing.assert_allclose(six[0, 3], (lm5[0, 3] + lm5[0, 4]) / 2)
    assert np.isnan(six[0, 4:]).all()
