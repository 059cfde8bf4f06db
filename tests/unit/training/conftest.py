"""Fixtures for the training unit tests: a fake evaluation report shaped like metrics.json, a tiny FER2013 npz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emostream.classifier.scoring import score
from emostream.core.labels import EMOTIONS


def _scores(count: int, accuracy: float, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, size=count)
    predictions = np.where(rng.random(count) < accuracy, labels, (labels + 1) % 7)
    probabilities = np.full((count, 7), 0.05)
    probabilities[np.arange(count), predictions] = 0.7
    return score(probabilities, labels).as_dict(EMOTIONS)


@pytest.fixture
def fake_report() -> dict[str, Any]:
    """A complete report dict, as ``training.evaluate`` writes it to metrics.json."""
    training = dict(zip(EMOTIONS, [3995, 436, 4097, 7215, 4830, 3171, 4965], strict=True))
    publictest = dict(zip(EMOTIONS, [467, 56, 496, 895, 653, 415, 607], strict=True))
    return {
        "name": "emonet",
        "command": "python -m training.evaluate --run-dir runs/r --model models/emonet.onnx --data d.npz",
        "model": {
            "path": "models/emonet.onnx",
            "bytes": 6411537,
            "sha256": "ab" * 32,
            "version": "1",
            "temperature": 1.4321,
            "classes": list(EMOTIONS),
            "input_size": 48,
        },
        "checkpoint": {"path": "runs/r/best.keras", "sha256": "cd" * 32, "is_exported_checkpoint": True},
        "architecture": {
            "name": "emonet",
            "params": 1605207,
            "trainable_params": 1601527,
            "macs": 59610880,
            "flops": 119221760,
            "macs_by_kind": {"Conv2D": 59609088, "Dense": 1792},
            "counted": "Conv/Dense MACs; FLOPs = 2 x MACs",
            "layers": 59,
        },
        "run": {
            "dir": "runs/r",
            "config": {"arch": "emonet", "epochs": 60},
            "command": "python -m training.train --data d.npz --run-dir runs/r",
            "epochs_in_history": 60,
            "best_dev_epoch": 57,
            "best_dev_acc": 0.6812,
            "time": {"epochs_timed": 60, "seconds": 7200.0, "backends": ["tensorflow"]},
            "machine": "2-core CPU",
        },
        "data": {
            "path": "d.npz",
            "sha256": "ef" * 32,
            "run_sha256": "ef" * 32,
            "arrays_sha256": {k: "12" * 32 for k in ("x_train", "y_train", "x_val", "y_val")},
            "splits": {"training": 28709, "train_part": 25838, "dev": 2871, "publictest": 3589},
            "class_counts": {"training": training, "publictest": publictest},
            "dev_method": "10% of Training, grouped by duplicate images",
            "max_train_samples": 0,
            "rows_unknown": {"training": 151, "publictest": 10},
        },
        "publictest": {"no_tta": _scores(3589, 0.66, 1), "flip_tta": _scores(3589, 0.675, 2)},
        "dev": {"no_tta": _scores(2871, 0.68, 3), "flip_tta": _scores(2871, 0.69, 4)},
        "calibration": {
            "temperature": 1.4321,
            "fitted_on": "dev split",
            "bins": 15,
            "publictest": {"before": {"ece": 0.0812, "nll": 1.0123}, "after": {"ece": 0.0211, "nll": 0.9351}},
            "method": "un-tempered",
        },
        "duplicates": {
            "publictest_in_training": 280,
            "publictest": 3589,
            "dev_in_train_part": 0,
            "no_tta": {
                "duplicate": {"count": 280, "accuracy": 0.9},
                "non_duplicate": {"count": 3309, "accuracy": 0.64},
            },
            "flip_tta": {
                "duplicate": {"count": 280, "accuracy": 0.91},
                "non_duplicate": {"count": 3309, "accuracy": 0.655},
            },
        },
        "ferplus": {
            "path": "ferplus_labels.csv",
            "publictest_with_votes": 3579,
            "label_agreement": 0.6376,
            "model_accuracy_vs_majority": 0.7012,
        },
        "export": {
            "checks": [
                {
                    "format": "onnx",
                    "bytes": 6411537,
                    "argmax_agreement": 1.0,
                    "max_abs_prob_diff": 7.3e-07,
                    "accuracy": 0.66,
                },
                {
                    "format": "onnx-int8",
                    "bytes": 1686804,
                    "argmax_agreement": 0.97,
                    "max_abs_prob_diff": 0.047,
                    "accuracy": 0.65,
                },
            ]
        },
        "baselines": [
            {
                "name": "shallow_cnn (ours)",
                "publictest_accuracy": 0.6012,
                "macro_f1": 0.55,
                "params": 2400000,
                "flops": 30000000,
                "source": None,
                "command": "python -m training.train --arch shallow_cnn",
                "notes": None,
            }
        ],
        "figures": {"confusion": "confusion.png", "reliability": "reliability.png", "gradcam": "gradcam.png"},
        "notes": [],
    }


@pytest.fixture
def tiny_fer(tmp_path: Path) -> Path:
    """A FER2013-shaped npz of 96 training and 24 PublicTest faces of noise, every class present."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(120, 48, 48), dtype=np.uint8)
    labels = np.arange(120) % 7
    path = tmp_path / "fer.npz"
    np.savez(path, x_train=images[:96], y_train=labels[:96], x_val=images[96:], y_val=labels[96:])
    return path
