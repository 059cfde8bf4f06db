from __future__ import annotations

import numpy as np
import pytest

from emostream.detector.anchors import FULL_RANGE, SHORT_RANGE, generate_anchors


@pytest.mark.parametrize(("spec", "count"), [(SHORT_RANGE, 896), (FULL_RANGE, 2304)])
def test_anchor_count_matches_model_outputs(spec, count) -> None:
    anchors = generate_anchors(spec)
    assert anchors.shape == (count, 2)
    assert anchors.dtype == np.float32
    assert ((anchors > 0) & (anchors < 1)).all()


def test_short_range_layout_follows_mediapipe() -> None:
    anchors = generate_anchors(SHORT_RANGE)
    # stride 8: a 16x16 grid, 2 anchors per cell, row-major (x fastest)
    np.testing.assert_allclose(anchors[0], anchors[1])
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[2], [1.5 / 16, 0.5 / 16])
    # stride 16: an 8x8 grid, 6 anchors per cell, starting after 16*16*2
    np.testing.assert_allclose(anchors[512:518], [[0.5 / 8, 0.5 / 8]] * 6)
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


def test_full_range_is_one_anchor_per_cell_of_a_48_grid() -> None:
    anchors = generate_anchors(FULL_RANGE)
    np.testing.assert_allclose(anchors[0], [0.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(anchors[48], [0.5 / 48, 1.5 / 48])
