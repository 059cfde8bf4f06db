"""Multiply-accumulates of a Keras model's Conv and Dense layers, for one 48x48 input.

Only the layers that carry the arithmetic are counted: Conv1D/2D/3D, DepthwiseConv, SeparableConv
and Dense. BatchNorm, activations, pooling, Add and the standardisation layer are left out (they
are a few percent at most). FLOPs are reported as 2 x MACs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LayerMacs:
    name: str
    kind: str
    macs: int


def _spatial_and_channels(layer: Any) -> tuple[int, int]:
    shape = tuple(layer.output.shape[1:])
    return math.prod(int(d) for d in shape[:-1]), int(shape[-1])


def layer_macs(layer: Any) -> LayerMacs | None:
    """The MACs of one layer per sample, or None for a layer that is not Conv/Dense."""
    from keras import layers

    kind = type(layer).__name__
    if isinstance(layer, layers.SeparableConv1D | layers.SeparableConv2D):
        positions, out_channels = _spatial_and_channels(layer)
        depthwise = tuple(int(d) for d in layer.depthwise_kernel.shape)  # (*kernel, c_in, multiplier)
        mid_channels = depthwise[-2] * depthwise[-1]
        macs = positions * mid_channels * math.prod(depthwise[:-2]) + positions * mid_channels * out_channels
        return LayerMacs(layer.name, kind, macs)
    if isinstance(layer, layers.DepthwiseConv1D | layers.DepthwiseConv2D):
        positions, out_channels = _spatial_and_channels(layer)
        kernel = tuple(int(d) for d in layer.kernel.shape)  # (*kernel, c_in, multiplier)
        return LayerMacs(layer.name, kind, positions * out_channels * math.prod(kernel[:-2]))
    if isinstance(layer, layers.Conv1D | layers.Conv2D | layers.Conv3D | layers.Dense):
        positions, out_channels = _spatial_and_channels(layer)
        kernel = tuple(int(d) for d in layer.kernel.shape)  # (*kernel, c_in / groups, c_out) or (in, out)
        return LayerMacs(layer.name, kind, positions * out_channels * math.prod(kernel[:-1]))
    return None


def count_macs(model: Any) -> list[LayerMacs]:
    """Per-layer MACs of every Conv/Dense layer of ``model`` (nested models included), in order."""
    found: list[LayerMacs] = []
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "kernel"):
            found.extend(count_macs(layer))
            continue
        entry = layer_macs(layer)
        if entry is not None:
            found.append(entry)
    return found


def summarise(model: Any) -> dict[str, Any]:
    """Parameters, MACs and FLOPs (= 2 x MACs) of ``model``, with the MACs per layer kind."""
    entries = count_macs(model)
    by_kind: dict[str, int] = {}
    for entry in entries:
        by_kind[entry.kind] = by_kind.get(entry.kind, 0) + entry.macs
    macs = sum(entry.macs for entry in entries)
    return {
        "name": model.name,
        "params": int(model.count_params()),
        "trainable_params": int(sum(math.prod(int(d) for d in w.shape) for w in model.trainable_weights)),
        "macs": macs,
        "flops": 2 * macs,
        "macs_by_kind": by_kind,
        "counted": "Conv/DepthwiseConv/SeparableConv/Dense multiply-accumulates per 48x48 input; FLOPs = 2 x MACs",
        "layers": len(model.layers),
    }
