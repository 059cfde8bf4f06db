"""The engine's output rows: each face's probabilities sum to 1, whatever the model's softmax gave."""

from __future__ import annotations

import numpy as np

from emostream.classifier.engine import rows_summing_to_one


def test_rows_summing_to_one_divides_each_row_by_its_sum() -> None:
    rows = np.array([[0.5, 0.49, 0.0], [0.2, 0.2, 0.6]], dtype=np.float32)
    np.testing.assert_allclose(rows_summing_to_one(rows), [[0.5 / 0.99, 0.49 / 0.99, 0.0], [0.2, 0.2, 0.6]], rtol=1e-6)


def test_a_row_of_zeros_stays_zeros_instead_of_dividing_by_zero() -> None:
    np.testing.assert_array_equal(rows_summing_to_one(np.zeros((2, 3), dtype=np.float32)), np.zeros((2, 3)))
