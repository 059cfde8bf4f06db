"""Distillation targets: the teacher's flip-averaged probabilities, blended into the labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from training.distill import Teacher, blend, check_targets, teacher_paths

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "emonet.onnx"


def test_blend_weights_labels_and_teacher_and_keeps_rows_summing_to_one() -> None:
    labels = np.eye(7, dtype=np.float32)[[0, 3]]
    teacher = np.full((2, 7), 1 / 7, dtype=np.float32)
    mixed = blend(labels, teacher, 0.25)
    np.testing.assert_allclose(mixed[0, 0], 0.75 + 0.25 / 7, rtol=1e-6)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="differ in shape"):
        blend(labels, teacher[:1], 0.5)


def test_teacher_gives_the_same_probabilities_for_an_image_and_its_mirror() -> None:
    pytest.importorskip("onnxruntime")
    teacher = Teacher(SHIPPED, threads=1)
    images = np.random.default_rng(0).random((4, 48, 48), dtype=np.float32)
    probabilities = teacher.probabilities(images)
    assert probabilities.shape == (4, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(teacher.probabilities(images[:, :, ::-1]), probabilities, atol=1e-6)


def test_an_ensemble_teacher_averages_its_models() -> None:
    pytest.importorskip("onnxruntime")
    int8 = SHIPPED.with_name("emonet.int8.onnx")
    images = np.random.default_rng(1).random((3, 48, 48), dtype=np.float32)
    one, other = Teacher(SHIPPED, threads=1).probabilities(images), Teacher(int8, threads=1).probabilities(images)
    both = Teacher([SHIPPED, int8], threads=1).probabilities(images)
    np.testing.assert_allclose(both, 0.5 * (one + other), atol=1e-6)
    assert not np.allclose(one, other, atol=1e-4)  # two different models, so the mean is not either one


def test_an_int8_teachers_quantized_probabilities_are_renormalised_to_sum_to_one() -> None:
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    int8 = SHIPPED.parents[1] / "training" / "teachers" / "emonet-v2.int8.onnx"  # a frozen export, softmax quantised
    images = np.random.default_rng(2).random((64, 48, 48), dtype=np.float32)
    session = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
    raw = session.run(None, {session.get_inputs()[0].name: images[..., None]})[0]
    assert np.abs(raw.sum(axis=1) - 1.0).max() > 1e-3  # the quantized softmax alone misses 1
    np.testing.assert_allclose(Teacher(int8, threads=1).probabilities(images).sum(axis=1), 1.0, atol=1e-6)


def test_training_targets_must_sum_to_one_in_each_row() -> None:
    good = np.eye(7, dtype=np.float32)[[1, 4]]
    assert check_targets(good) is good
    bad = good.copy()
    bad[1] *= 0.996
    with pytest.raises(ValueError, match=r"row 1 sums to 0\.996"):
        check_targets(bad)


def test_tensorflow_cross_entropy_is_biased_by_targets_not_summing_to_one() -> None:
    """Why the targets are checked: the gradient's sum over the classes is 1 - sum(targets), not 0, so every step
    moves all logits the same way (emonet-v5's drift). With rows summing to 1 the sum is 0."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the bias is TensorFlow's")
    import tensorflow as tf

    loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    logits = tf.Variable(np.random.default_rng(3).normal(size=(8, 7)).astype(np.float32))
    targets = np.full((8, 7), 1 / 7, dtype=np.float32)
    for scale, expected in ((0.996, 0.004 * 0.9), (1.0, 0.0)):
        with tf.GradientTape() as tape:
            value = loss(targets * scale, logits)
        gradient = tape.gradient(value, logits).numpy().sum(axis=1) * len(targets)  # the mean over the batch undone
        np.testing.assert_allclose(gradient, expected, atol=1e-6)


def test_teacher_paths_split_an_ensemble_on_commas() -> None:
    assert teacher_paths("a.onnx") == [Path("a.onnx")]
    assert teacher_paths("a.onnx, b.onnx,") == [Path("a.onnx"), Path("b.onnx")]
    with pytest.raises(ValueError, match="names no model"):
        teacher_paths(" , ")


def test_a_missing_teacher_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no teacher model"):
        Teacher(tmp_path / "absent.onnx")


def test_a_resumed_run_refuses_a_teacher_other_than_the_one_it_started_with(tmp_path: Path) -> None:
    from training.train import TrainConfig, check_teacher

    teacher = tmp_path / "teacher.onnx"
    teacher.write_bytes(b"first")
    config = TrainConfig(teacher=str(teacher))
    saved = tmp_path / "config.json"
    saved.write_text(json.dumps({"teacher_sha256": check_teacher(config, None)}))
    assert check_teacher(config, saved)  # the same file: fine
    teacher.write_bytes(b"a newer export")
    with pytest.raises(ValueError, match="not the one this run started with"):
        check_teacher(config, saved)


def test_an_ensemble_teacher_is_checked_model_by_model(tmp_path: Path) -> None:
    from training.train import TrainConfig, check_teacher

    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    config = TrainConfig(teacher=f"{first},{second}")
    digest = check_teacher(config, None)
    assert len(digest.split(",")) == 2
    saved = tmp_path / "config.json"
    saved.write_text(json.dumps({"teacher_sha256": digest}))
    second.write_bytes(b"b, re-exported")
    with pytest.raises(ValueError, match="not the one this run started with"):
        check_teacher(config, saved)
