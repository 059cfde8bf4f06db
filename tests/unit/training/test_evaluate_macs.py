"""MACs of Conv/Dense layers, counted by hand on one-layer models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from training.report.macs import count_macs, layer_macs, summarise  # noqa: E402


def one_layer(shape: tuple[int, ...], make: Callable[[], Any]) -> Any:
    inputs = keras.Input(shape)
    return keras.Model(inputs, make()(inputs))


@pytest.mark.parametrize(
    ("shape", "make", "macs"),
    [
        ((8, 8, 2), lambda: layers.Conv2D(4, 3, padding="same"), 8 * 8 * 4 * 3 * 3 * 2),
        ((8, 8, 2), lambda: layers.Conv2D(4, 3, strides=2), 3 * 3 * 4 * 3 * 3 * 2),
        ((8, 8, 2), lambda: layers.Conv2D(4, 1, groups=2), 8 * 8 * 4 * 1),
        ((8, 8, 2), lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), 8 * 8 * 4 * 9),
        ((8, 8, 2), lambda: layers.SeparableConv2D(6, 3, padding="same"), 8 * 8 * 2 * 9 + 8 * 8 * 2 * 6),
        ((8, 8, 2), lambda: layers.SeparableConv2D(6, 3, strides=2, padding="same"), 4 * 4 * 2 * 9 + 4 * 4 * 2 * 6),
        ((10, 2), lambda: layers.Conv1D(4, 3, padding="same"), 10 * 4 * 3 * 2),
        ((10,), lambda: layers.Dense(5), 10 * 5),
        ((3, 10), lambda: layers.Dense(5), 3 * 10 * 5),
    ],
)
def test_layer_macs(shape: tuple[int, ...], make: Callable[[], Any], macs: int) -> None:
    model = one_layer(shape, make)
    (entry,) = count_macs(model)
    assert entry.macs == macs


@pytest.mark.parametrize("make", [layers.MaxPooling2D, layers.BatchNormalization, layers.ReLU])
def test_other_layers_are_not_counted(make: Callable[[], Any]) -> None:
    model = one_layer((8, 8, 2), make)
    assert all(layer_macs(layer) is None for layer in model.layers)


def test_summary_of_a_small_net() -> None:
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(3, name="fc")(x))
    summary = summarise(model)
    expected = 8 * 8 * 4 * 9 + 4 * 3
    assert summary["macs"] == expected and summary["flops"] == 2 * expected
    assert summary["macs_by_kind"] == {"Conv2D": 8 * 8 * 4 * 9, "Dense": 12}
    assert summary["params"] == model.count_params() == (9 * 4 + 4) + (4 * 3 + 3)


def test_nested_model_is_counted() -> None:
    inner = keras.Sequential([keras.Input((10,)), layers.Dense(5)], name="inner")
    inputs = keras.Input((10,))
    model = keras.Model(inputs, layers.Dense(2)(inner(inputs)))
    assert [entry.macs for entry in count_macs(model)] == [50, 10]
