"""Grad-CAM and activations on a tiny Keras model (TensorFlow backend)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from training.report.saliency import (  # noqa: E402
    activations,
    first_conv_layers,
    gradcam,
    gradcam_from,
    last_conv_stage,
)


def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    x = layers.ReLU(name="r1")(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="c2")(x)
    x = layers.ReLU(name="r2")(x)
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Dropout(0.5, name="drop")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(7, name="logits")(x))


def test_gradcam_from_puts_the_peak_where_the_evidence_is() -> None:
    features = np.zeros((1, 6, 6, 2), dtype=np.float32)
    features[0, 1, 4, 0] = 5.0  # channel 0 fires top right
    features[0, 4, 1, 1] = 5.0  # channel 1 fires bottom left, but its gradient is negative
    gradients = np.zeros_like(features)
    gradients[..., 0], gradients[..., 1] = 1.0, -1.0
    (cam,) = gradcam_from(features, gradients, size=48)
    assert cam.shape == (48, 48) and cam.max() == pytest.approx(1.0) and cam.min() >= 0.0
    row, column = np.unravel_index(cam.argmax(), cam.shape)
    assert row < 16 and column > 32


def test_gradcam_from_all_negative_is_zero() -> None:
    features = np.ones((2, 3, 3, 1), dtype=np.float32)
    assert not gradcam_from(features, -features).any()


def test_layer_choice() -> None:
    model = tiny_model()
    assert first_conv_layers(model, 2) == ["c1", "c2"]
    assert last_conv_stage(model) == "r2"  # pooling and dropout are skipped


def test_activations_and_gradcam_shapes() -> None:
    model = tiny_model()
    images = np.random.default_rng(0).random((3, 48, 48, 1)).astype(np.float32)
    first, second = activations(model, images, ["c1", "c2"])
    assert first.shape == (3, 48, 48, 4) and second.shape == (3, 24, 24, 8)
    cams = gradcam(model, images, np.array([0, 3, 6]))
    assert cams.shape == (3, 48, 48) and cams.min() >= 0.0 and cams.max() <= 1.0 + 1e-6
