from __future__ import annotations

import numpy as np
import pytest

from emostream.classifier.scoring import confusion_matrix, expected_calibration_error, score


def test_perfect_predictions() -> None:
    labels = np.array([0, 1, 2, 2])
    probabilities = np.eye(3)[labels]
    scores = score(probabilities, labels)
    assert scores.accuracy == 1.0 and scores.macro_f1 == 1.0
    assert scores.ece == pytest.approx(0.0)
    assert scores.confusion.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]


def test_known_f1_and_recall() -> None:
    labels = np.array([0, 0, 1, 1])
    predictions = np.array([0, 1, 1, 1])
    scores = score(np.eye(2)[predictions] * 0.9 + 0.05, labels)
    assert scores.recall == pytest.approx((0.5, 1.0))
    assert scores.precision == pytest.approx((1.0, 2 / 3))
    assert scores.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_ece_of_an_overconfident_model() -> None:
    labels = np.array([0, 1, 0, 1])
    probabilities = np.array([[0.99, 0.01]] * 4)  # 99% sure, right half the time
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.49)


def test_confusion_counts() -> None:
    assert confusion_matrix(np.array([1, 1, 0]), np.array([0, 1, 0]), 2).tolist() == [[1, 0], [1, 1]]
