"""The report's pure numbers: duplicates, temperature undo, NLL, run files, sample picking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.report.numbers import (
    duplicate_mask,
    ferplus_agreement,
    ferplus_majority,
    masked_accuracy,
    merge_to_six,
    negative_log_likelihood,
    pick_samples,
    read_history,
    six_class_accuracy,
    training_time,
    untemper,
)

RNG = np.random.default_rng(3)


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_duplicates_are_found_pixel_for_pixel() -> None:
    reference = RNG.integers(0, 256, size=(20, 48, 48), dtype=np.uint8)
    query = RNG.integers(0, 256, size=(10, 48, 48), dtype=np.uint8)
    query[[1, 4, 7]] = reference[[0, 5, 19]]
    near = reference[3].copy()
    near[0, 0] ^= 1  # one grey level off: not a duplicate
    query[8] = near
    assert np.flatnonzero(duplicate_mask(query, reference)).tolist() == [1, 4, 7]


@pytest.mark.parametrize(("query", "reference"), [(0, 5), (5, 0)])
def test_duplicates_of_empty_splits(query: int, reference: int) -> None:
    images = RNG.integers(0, 256, size=(5, 48, 48), dtype=np.uint8)
    mask = duplicate_mask(images[:query], images[:reference])
    assert mask.shape == (query,) and not mask.any()


def test_accuracy_on_the_duplicate_and_other_part() -> None:
    probabilities = np.eye(3)[[0, 1, 2, 0]]
    labels = np.array([0, 1, 0, 1])
    mask = np.array([True, True, False, False])
    assert masked_accuracy(probabilities, labels, mask) == {"count": 2, "accuracy": 1.0}
    assert masked_accuracy(probabilities, labels, ~mask) == {"count": 2, "accuracy": 0.0}
    assert masked_accuracy(probabilities, labels, np.zeros(4, bool)) == {"count": 0, "accuracy": None}


@pytest.mark.parametrize("temperature", [0.25, 1.0, 1.7, 6.0])
def test_untemper_recovers_the_plain_softmax(temperature: float) -> None:
    logits = RNG.normal(0, 3, size=(50, 7))
    tempered = softmax(logits / temperature).astype(np.float32)
    np.testing.assert_allclose(untemper(tempered, temperature), softmax(logits), atol=1e-5)


def test_untemper_survives_underflowed_probabilities() -> None:
    tempered = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    restored = untemper(tempered, 0.5)
    assert np.isfinite(restored).all() and restored[0, 0] == pytest.approx(1.0)


def test_nll() -> None:
    probabilities = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert negative_log_likelihood(probabilities, np.array([0, 1])) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)
    assert np.isfinite(negative_log_likelihood(np.array([[1.0, 0.0]]), np.array([1])))


def test_training_time_sums_the_epochs(tmp_path: Path) -> None:
    path = tmp_path / "timing.jsonl"
    path.write_text(
        '{"epoch": 1, "seconds": 90.5, "backend": "tensorflow"}\n'
        '{"epoch": 2, "seconds": 100.0, "backend": "tensorflow"}\n\n'
        '{"epoch": 3, "seconds": 1000, "cpu_seconds": 12.5, "backend": "torch"}\n'  # paused, then 12.5 s of work
    )
    assert training_time(path) == {
        "epochs_timed": 3, "seconds": 1190.5, "backends": ["tensorflow", "torch"], "median_epoch_seconds": 100.0,
        "cpu": {"epochs": 1, "seconds": 12.5},
    }  # fmt: skip
    assert training_time(tmp_path / "missing.jsonl")["epochs_timed"] == 0


def test_history_columns(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("epoch,acc,loss,val_acc,val_loss\n0,0.2,2.0,0.25,1.9\n1,0.3,1.8,0.35,1.7\n")
    history = read_history(path)
    assert history["epoch"] == [0.0, 1.0] and history["val_acc"] == [0.25, 0.35]
    assert read_history(tmp_path / "none.csv") == {}


def test_pick_samples_one_per_class_first() -> None:
    labels = np.repeat(np.arange(7), 10)
    picks = pick_samples(labels, 12, seed=1, num_classes=7)
    assert len(picks) == 12 and len(set(picks.tolist())) == 12
    assert labels[picks[:7]].tolist() == list(range(7))
    assert pick_samples(labels, 12, seed=1, num_classes=7).tolist() == picks.tolist()


def test_pick_samples_with_a_missing_class_and_few_images() -> None:
    labels = np.array([0, 0, 2, 2, 2])
    picks = pick_samples(labels, 12, seed=0, num_classes=7)
    assert sorted(picks.tolist()) == [0, 1, 2, 3, 4]
    assert labels[picks[:2]].tolist() == [0, 2]


def test_ferplus_majority_joins_by_row() -> None:
    votes = np.zeros((4, 7), dtype=np.float32)
    votes[0, 3] = 8
    votes[0, 5] = 2
    votes[2, 1] = 5
    votes[2, 4] = 5  # tie: the lower class index
    majority, voted = ferplus_majority(votes, np.array([0, 2, 1, -1, 9]))
    assert voted.tolist() == [True, True, False, False, False]
    assert majority[:2].tolist() == [3, 1]


def test_ferplus_agreement_scores_model_and_labels_on_voted_samples_only() -> None:
    votes = np.zeros((3, 7), dtype=np.float32)
    votes[0, 3] = 6  # row 0: Happy
    votes[1, 6] = 4  # row 1: Neutral
    rows = np.array([0, 1, -1, 2])  # sample 2 has no FER+ row, sample 3 a row without votes
    probabilities = np.eye(7)[[3, 4, 0, 0]]  # right, wrong, (unvoted), (unvoted)
    labels = np.array([3, 6, 1, 1])  # both voted labels agree with the crowd
    assert ferplus_agreement(probabilities, labels, rows, votes) == {
        "count": 2,
        "accuracy": 0.5,
        "label_agreement": 1.0,
    }


def test_ferplus_agreement_is_undefined_for_six_classes_or_no_votes() -> None:
    votes = np.zeros((2, 7), dtype=np.float32)
    rows = np.array([0, 1])
    assert ferplus_agreement(np.full((2, 6), 1 / 6), np.zeros(2, int), rows, votes) is None
    assert ferplus_agreement(np.full((2, 7), 1 / 7), np.zeros(2, int), rows, votes) is None


def test_merge_to_six_adds_disgust_to_angry() -> None:
    probabilities = np.array([[0.1, 0.25, 0.05, 0.2, 0.1, 0.1, 0.2], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    merged = merge_to_six(probabilities)
    np.testing.assert_allclose(merged, [[0.35, 0.05, 0.2, 0.1, 0.1, 0.2], [1.0, 0, 0, 0, 0, 0]])


def test_six_class_accuracy_merges_a_seven_class_model() -> None:
    # a Disgust face called Angry is right on the 6-class task; Happy called Neutral stays wrong
    probabilities = np.eye(7)[[0, 3, 6, 1]]
    labels = np.array([1, 3, 3, 0])
    assert six_class_accuracy(probabilities, labels) == 0.75
    six = np.eye(6)[[0, 2, 5]]
    assert six_class_accuracy(six, np.array([0, 2, 2])) == pytest.approx(2 / 3)
