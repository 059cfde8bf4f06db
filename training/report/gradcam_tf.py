"""The TensorFlow-backend half of Grad-CAM: class-logit gradients through ``tf.GradientTape``."""

from __future__ import annotations

from typing import Any

import numpy as np


def feature_gradients(
    model: Any, images: np.ndarray, layer_name: str, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The named layer's output (N, h, w, C) and the gradient of logit[n, classes[n]] with respect to it."""
    import keras
    import tensorflow as tf

    probe = keras.Model(model.input, [model.get_layer(layer_name).output, model.output])
    inputs = tf.convert_to_tensor(images, dtype=tf.float32)
    with tf.GradientTape() as tape:
        features, logits = probe(inputs, training=False)
        picked = tf.gather(logits, tf.convert_to_tensor(classes, dtype=tf.int32), axis=1, batch_dims=1)
    gradients = tape.gradient(picked, features)
    return np.asarray(features), np.asarray(gradients)
