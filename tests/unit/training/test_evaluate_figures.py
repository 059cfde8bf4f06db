"""Every report figure draws from small fakes and writes a PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from emostream.classifier.scoring import reliability_bins
from emostream.core.labels import EMOTIONS
from training.report import figures

RNG = np.random.default_rng(5)
FACES = RNG.integers(0, 256, size=(4, 48, 48), dtype=np.uint8)


def _confusion(path: Path) -> Path:
    return figures.confusion_png(RNG.integers(0, 50, size=(7, 7)), EMOTIONS, "fake", path)


def _learning_curves(path: Path) -> Path:
    history = {"epoch": [0.0, 1.0, 2.0], "acc": [0.3, 0.4, 0.5], "loss": [1.8, 1.6, 1.4], "val_acc": [0.35, 0.42, 0.5],
               "val_loss": [1.7, 1.5, 1.45], "learning_rate": [0.05, 0.03, 0.01]}  # fmt: skip
    return figures.learning_curves_png(history, path)


def _reliability(path: Path) -> Path:
    probabilities = RNG.dirichlet(np.ones(7), size=200)
    labels = RNG.integers(0, 7, size=200)
    bins = reliability_bins(probabilities, labels, 15)
    return figures.reliability_png([("before", *bins, 0.1), ("after", *bins, 0.05)], path)


def _feature_maps(path: Path) -> Path:
    maps = [("conv1", RNG.random((2, 48, 48, 16))), ("conv2", RNG.random((2, 24, 24, 4)))]  # fewer channels than shown
    return figures.feature_maps_png(FACES[:2], maps, ["a", "b"], path)


def _gradcam(path: Path) -> Path:
    heatmaps = RNG.random((4, 48, 48))
    return figures.gradcam_png(FACES, heatmaps, ["happy"] * 4, ["happy", "sad", "fear", "happy"], [0.9] * 4, "l", path)


@pytest.mark.parametrize("draw", [_confusion, _learning_curves, _reliability, _feature_maps, _gradcam])
def test_figure_is_written(tmp_path: Path, draw: Callable[[Path], Path]) -> None:
    path = draw(tmp_path / "figure.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
