"""training.dev_check: exported models scored on a run's own dev split, alone and as an ensemble."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emostream.classifier.engine import OnnxEmotionClassifier
from emostream.commands.eval_model import predict
from training.data import dev_split, load_npz
from training.dev_check import DevScore, format_table, model_labels, run_dev_split, score

MODELS = Path(__file__).resolve().parents[3] / "models"


def _run(tmp_path: Path, labels_from: OnnxEmotionClassifier | None = None) -> Path:
    """A run folder whose data file holds 200 random faces; labels are ``labels_from``'s predictions, if given."""
    images = np.random.default_rng(3).integers(0, 256, size=(200, 48, 48), dtype=np.uint8)
    labels = np.arange(200) % 7
    if labels_from is not None:
        labels = predict(labels_from, images, tta=False).argmax(axis=1)
    data = tmp_path / "fer.npz"
    np.savez(data, x_train=images, y_train=labels, x_val=images[:7], y_val=labels[:7])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"data": str(data), "dev_fraction": 0.25, "seed": 7}))
    return run


def test_the_dev_split_is_the_one_the_run_trained_without(tmp_path: Path) -> None:
    run = _run(tmp_path)
    expected = dev_split(load_npz(tmp_path / "fer.npz").split("train"), 0.25, 7)[1]
    dev = run_dev_split(run)
    assert 0 < len(dev) < 200
    np.testing.assert_array_equal(dev.images, expected.images)
    np.testing.assert_array_equal(dev.labels, expected.labels)


def test_a_model_scored_on_its_own_predictions_is_right_on_every_image(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    shipped = MODELS / "emonet.onnx"
    classifier = OnnxEmotionClassifier(shipped, providers=("CPUExecutionProvider",))
    dev = run_dev_split(_run(tmp_path, labels_from=classifier))
    scores = score([shipped, MODELS / "emonet.int8.onnx"], dev, threads=1)
    assert [s.name for s in scores] == ["emonet.onnx", "emonet.int8.onnx", "emonet.onnx + emonet.int8.onnx"]
    assert scores[0].accuracy == 1.0  # each dev image scored against its own label (the model predicts 2+ classes here)
    # the flip-averaged score is the runtime's own flip TTA (eval-model --tta), here reassembled from two passes
    flip_tta = predict(classifier, dev.images, tta=True).argmax(axis=1)
    assert scores[0].flip_accuracy == pytest.approx(np.mean(flip_tta == dev.labels))
    assert scores[0].flip_accuracy < 1.0  # mirrored faces change some of the model's answers


def test_one_model_is_not_scored_twice_as_an_ensemble(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    scores = score([MODELS / "emonet.int8.onnx"], run_dev_split(_run(tmp_path)), threads=1)
    assert len(scores) == 1


def test_the_table_lists_every_score_as_a_percentage() -> None:
    table = format_table([DevScore("a.onnx", 0.5, 0.625), DevScore("a.onnx + b.onnx", 0.7, 0.71)], 2879)
    assert table.splitlines()[0] == "dev split: 2879 images"
    assert "50.00%" in table and "62.50%" in table and "71.00%" in table


def test_models_that_share_a_file_name_are_told_apart_by_their_paths() -> None:
    models = [Path("models/emonet.onnx"), Path("build/v7/emonet.onnx"), Path("teachers/emonet-v3.int8.onnx")]
    assert model_labels(models) == ["models/emonet.onnx", "build/v7/emonet.onnx", "emonet-v3.int8.onnx"]


def test_the_paired_difference_counts_the_faces_only_one_model_gets_right() -> None:
    from training.dev_check import format_pairs, paired_difference

    first = np.array([1, 1, 1, 0, 0, 1, 1, 0, 1, 1], dtype=bool)
    other = np.array([1, 1, 0, 1, 1, 1, 1, 1, 1, 1], dtype=bool)  # loses face 2, wins faces 3, 4 and 7
    pair = paired_difference("b.onnx", first, other)
    assert (pair.only_this, pair.only_first) == (3, 1)
    assert pair.difference == pytest.approx(0.2)
    per_face = np.array([0, 0, -1, 1, 1, 0, 0, 1, 0, 0], dtype=float)
    assert pair.half_width == pytest.approx(1.96 * per_face.std(ddof=1) / np.sqrt(10))
    same = paired_difference("a.onnx", first, first)
    assert (same.difference, same.half_width, same.only_this, same.only_first) == (0.0, 0.0, 0, 0)
    assert "+20.00  [" in format_pairs([pair], "a.onnx")
    with pytest.raises(ValueError, match="equal, 1-D"):
        paired_difference("c", first, other[:5])
