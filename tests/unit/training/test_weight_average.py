"""Weight averaging (``training.weight_average``): the running mean, its continuity on resume, batch-norm
recalibration, and a tiny run that averages its tail and gives an exportable ``swa.npz``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from training.train import TrainConfig, _adopt_average_from
from training.weight_average import averaged_summary, check_continuous, read_average, update_average


def _weights(value: float) -> list[np.ndarray]:
    return [np.full((2, 3), value, np.float32), np.array([value, -value], np.float32)]


def test_the_running_mean_is_the_plain_mean_and_an_epoch_trained_again_counts_once(tmp_path: Path) -> None:
    path = tmp_path / "average.npz"
    assert read_average(path) == (0, 0, None)
    for epoch, value in ((4, 1.0), (5, 2.0), (6, 6.0)):
        update_average(_weights(value), path, epoch)
    assert update_average(_weights(100.0), path, 6) == 3  # epoch 6 again (a call stopped before resume.npz)

    count, last_epoch, mean = read_average(path)
    assert (count, last_epoch) == (3, 6)
    assert mean is not None
    np.testing.assert_allclose(mean[0], np.full((2, 3), 3.0))
    np.testing.assert_allclose(mean[1], [3.0, -3.0])
    with np.load(path) as data:
        assert int(data["first_epoch"]) == 4


def test_a_model_with_other_weights_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "average.npz"
    update_average(_weights(1.0), path, 1)
    with pytest.raises(ValueError, match="holds 2 weights, the model has 1"):
        update_average(_weights(1.0)[:1], path, 2)


def test_a_resumed_average_must_hold_every_epoch_since_its_start(tmp_path: Path) -> None:
    path = tmp_path / "average.npz"
    check_continuous(path, average_from=5, epochs_done=5)  # nothing to hold yet
    with pytest.raises(ValueError, match="averages 0 epochs up to epoch 0"):
        check_continuous(path, average_from=5, epochs_done=6)
    for epoch in (6, 7):
        update_average(_weights(epoch), path, epoch)
    check_continuous(path, average_from=5, epochs_done=7)
    check_continuous(path, average_from=5, epochs_done=6)  # one epoch ahead of resume.npz: trained again, skipped
    with pytest.raises(ValueError, match="up to epoch 7, but the run has trained 8"):
        check_continuous(path, average_from=5, epochs_done=8)
    with pytest.raises(ValueError, match="averages 2 epochs"):
        check_continuous(path, average_from=4, epochs_done=7)  # epoch 5 is missing


def test_a_resumed_run_takes_up_averaging_only_before_it_passes_the_epoch() -> None:
    config = TrainConfig()
    assert _adopt_average_from(config, 0, 120) is config
    assert _adopt_average_from(config, 150, 120).average_from == 150
    assert _adopt_average_from(config, 150, 150).average_from == 150
    with pytest.raises(ValueError, match="too late to average from epoch 150"):
        _adopt_average_from(config, 150, 151)
    averaging = TrainConfig(average_from=150)
    assert _adopt_average_from(averaging, 0, 160) is averaging  # the run's own choice stays
    with pytest.raises(ValueError, match="after epoch 150, not 140"):
        _adopt_average_from(averaging, 140, 120)


def test_batch_norm_recalibration_measures_the_plain_mean_and_variance_of_the_data() -> None:
    keras = pytest.importorskip("keras")
    from training.weight_average import recalibrate_batch_norm

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    norm = keras.layers.BatchNormalization(momentum=0.9, name="norm")
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(norm(features)))
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(1).random((300, 8, 8, 1), dtype=np.float32) * 3 + 1

    assert recalibrate_batch_norm(model, images, batch_size=64) == 1  # 64 does not divide 300: weighted batches

    conv = keras.Model(inputs, features).predict(images, verbose=0)
    np.testing.assert_allclose(np.asarray(norm.moving_mean), conv.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-5)
    batch_variances = [conv[i : i + 64].var(axis=(0, 1, 2)) * len(conv[i : i + 64]) for i in range(0, 300, 64)]
    np.testing.assert_allclose(np.asarray(norm.moving_variance), np.sum(batch_variances, axis=0) / 300, rtol=1e-3)
    assert norm.momentum == 0.9


def test_a_run_averages_its_tail_across_calls_and_gives_an_exportable_average(tmp_path: Path, tiny_fer: Path) -> None:
    pytest.importorskip("keras")
    from training.checkpoint import load_checkpoint
    from training.train import train
    from training.weight_average import build_averaged

    data, run = tiny_fer, tmp_path / "run"
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=3, warmup_epochs=0, batch_size=32)
    train(config, run, resume=False, stop_after=1)
    assert not (run / "average.npz").exists()
    train(TrainConfig(data=str(data), average_from=1), run, resume=True, stop_after=1)  # taken up on resume
    assert json.loads((run / "config.json").read_text())["average_from"] == 1
    assert read_average(run / "average.npz")[:2] == (1, 2)
    train(TrainConfig(data=str(data)), run, resume=True)  # the run keeps averaging without being told again
    assert read_average(run / "average.npz")[:2] == (2, 3)

    result = build_averaged(run)

    assert result["averaged_epochs"] == [2, 3]
    assert result["batch_norm_layers_recalibrated"] > 0
    assert 0.0 <= result["dev_accuracy_average"] <= 1.0
    assert json.loads((run / "swa.json").read_text()) == result
    model = load_checkpoint(run / "swa.npz")  # rebuilt from config.json, the averaged weights loaded
    _, _, mean = read_average(run / "average.npz")
    assert mean is not None
    trainable = {id(v) for v in model.trainable_weights}
    for variable, averaged in zip(model.weights, mean, strict=True):
        if id(variable) in trainable:  # the moving statistics were measured again, the rest is the mean
            np.testing.assert_allclose(np.asarray(variable), averaged, rtol=1e-5, atol=1e-6)


def test_the_summary_belongs_to_the_averaged_weights_only(tmp_path: Path) -> None:
    average, last = tmp_path / "swa.npz", tmp_path / "resume.npz"
    assert averaged_summary(average) is None  # no swa.json
    summary = {"averaged_epochs": [151, 200], "weights": str(average)}
    (tmp_path / "swa.json").write_text(json.dumps(summary))
    assert averaged_summary(average) == summary
    assert averaged_summary(last) is None  # the last epoch was exported, not the average
