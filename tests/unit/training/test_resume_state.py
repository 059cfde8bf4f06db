from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.resume_state import load_state, save_state  # noqa: E402


def _model() -> keras.Model:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(5, activation="relu")(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    return model


def test_weights_momentum_and_step_survive_the_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 3)).astype("float32")
    trained = _model()
    trained.fit(x, y, batch_size=8, epochs=2, verbose=0)
    save_state(trained, tmp_path / "resume.npz")

    fresh = _model()
    load_state(fresh, tmp_path / "resume.npz")
    assert int(fresh.optimizer.iterations.numpy()) == int(trained.optimizer.iterations.numpy()) == 8
    for a, b in zip(trained.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(trained.optimizer.variables, fresh.optimizer.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()), rtol=1e-3, atol=1e-6)
    # the next step moves both models the same way (the momentum came along)
    trained.train_on_batch(x[:8], y[:8])
    fresh.train_on_batch(x[:8], y[:8])
    for a, b in zip(trained.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_a_state_larger_than_a_part_is_split_and_restored_whole(tmp_path: Path) -> None:
    trained = _model()
    trained.fit(np.ones((8, 4), "float32"), np.ones((8, 3), "float32"), batch_size=4, epochs=1, verbose=0)
    save_state(trained, tmp_path / "resume.npz", max_part_bytes=100)  # the first kernel and bias: 80 + 20 bytes
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) > 2 and names == [f"resume.{i}.npz" for i in range(1, len(names))] + ["resume.npz"]

    fresh = _model()
    load_state(fresh, tmp_path / "resume.npz")
    assert int(fresh.optimizer.iterations.numpy()) == 2
    for a, b in zip(trained.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
