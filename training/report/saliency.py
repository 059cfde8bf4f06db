"""What the network looks at: first-layer activations and Grad-CAM (Selvaraju et al. 2017).

Backend-neutral Keras here; the one backend-specific step (gradients of a class logit with
respect to an inner feature map) lives in ``gradcam_tf.py`` and is picked by the Keras backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.ndimage import zoom

FeatureGradients = Callable[[Any, np.ndarray, str, np.ndarray], tuple[np.ndarray, np.ndarray]]


class BackendNotSupportedError(RuntimeError):
    """Grad-CAM has no gradient implementation for the active Keras backend."""


def _is_conv(layer: Any) -> bool:
    from keras import layers

    return isinstance(layer, layers.Conv2D | layers.SeparableConv2D | layers.DepthwiseConv2D)


def first_conv_layers(model: Any, count: int = 2) -> list[str]:
    """Names of the first ``count`` 2-D convolutions, in graph order."""
    return [layer.name for layer in model.layers if _is_conv(layer)][:count]


def last_conv_stage(model: Any) -> str:
    """The last layer with a spatial (N, H, W, C) output that is not pooling or dropout: Grad-CAM's target."""
    from keras import layers

    skip = (layers.Dropout, layers.MaxPooling2D, layers.AveragePooling2D, layers.SpatialDropout2D)
    candidates = [
        layer.name
        for layer in model.layers
        if len(layer.output.shape) == 4 and min(int(layer.output.shape[1]), int(layer.output.shape[2])) > 1
        and not isinstance(layer, skip)
    ]  # fmt: skip
    if not candidates:
        raise ValueError(f"{model.name} has no layer with a spatial output")
    return candidates[-1]


def activations(model: Any, images: np.ndarray, layer_names: list[str]) -> list[np.ndarray]:
    """Outputs (N, H, W, C) of the named layers for ``images`` (N, 48, 48, 1) float32 in [0, 1]."""
    import keras

    probe = keras.Model(model.input, [model.get_layer(name).output for name in layer_names])
    outputs = probe(images, training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(output)) for output in outputs]


def feature_gradients_for_backend() -> FeatureGradients:
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        from training.report.gradcam_tf import feature_gradients

        return feature_gradients
    raise BackendNotSupportedError(f"Grad-CAM is implemented for the tensorflow backend only, not {backend!r}")


def gradcam_from(features: np.ndarray, gradients: np.ndarray, size: int = 48) -> np.ndarray:
    """Grad-CAM maps (N, size, size) in [0, 1] from a feature map and its gradients (N, h, w, C)."""
    weights = gradients.mean(axis=(1, 2), keepdims=True)  # global-average-pooled gradients per channel
    cams = np.maximum((weights * features).sum(axis=-1), 0.0)
    out = np.zeros((len(cams), size, size), dtype=np.float32)
    for index, cam in enumerate(cams):
        resized = zoom(cam, (size / cam.shape[0], size / cam.shape[1]), order=1)
        peak = float(resized.max())
        out[index] = resized / peak if peak > 0 else resized
    return out


def gradcam(model: Any, images: np.ndarray, classes: np.ndarray, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM of ``classes`` (one per image) on ``layer_name`` (default: the last conv stage)."""
    feature_gradients = feature_gradients_for_backend()
    features, gradients = feature_gradients(model, images, layer_name or last_conv_stage(model), classes)
    return gradcam_from(features, gradients, size=int(images.shape[1]))
