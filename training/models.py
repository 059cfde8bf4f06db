"""Model architectures: emostream's own nets and the seeds' baselines, all Keras 3.

Every model takes (N, 48, 48, 1) float32 in [0, 1] (the preprocessing layer inside the model
normalises) and ends in logits; softmax (with the fitted temperature) is added at export.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

INPUT_SHAPE = (48, 48, 1)


@keras.saving.register_keras_serializable(package="emostream")
class Standardise(layers.Layer):
    """Per-image standardisation: zero mean, unit variance. Makes the net indifferent to exposure."""

    def call(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        mean = keras.ops.mean(inputs, axis=(1, 2, 3), keepdims=True)
        std = keras.ops.std(inputs, axis=(1, 2, 3), keepdims=True)
        return (inputs - mean) / (std + 1e-3)


def _bn(name: str) -> layers.BatchNormalization:
    # momentum 0.9: with ~200 steps an epoch, Keras's default 0.99 leaves the moving statistics far behind
    return layers.BatchNormalization(momentum=0.9, name=name)


def _conv_bn_relu(x: keras.KerasTensor, filters: int, stride: int = 1, name: str = "") -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = _bn(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _residual_block(x: keras.KerasTensor, filters: int, stride: int, name: str, inner: int) -> keras.KerasTensor:
    """Two 3x3 convolutions around an identity (or 1x1 projection) shortcut; ``inner``: the width between the
    two convolutions, which pruning narrows without touching the shortcut's width ``filters``."""
    shortcut = x
    y = _conv_bn_relu(x, inner, stride, name=f"{name}_a")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_b_conv")(y)
    y = _bn(f"{name}_b_bn")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj_conv")(x)
        shortcut = _bn(f"{name}_proj_bn")(shortcut)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([shortcut, y]))


def _inputs() -> tuple[keras.KerasTensor, keras.KerasTensor]:
    inputs = keras.Input(INPUT_SHAPE, name="face")
    return inputs, Standardise(name="standardise")(inputs)


def emonet(
    num_classes: int = 7,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    blocks: tuple[int, ...] = (1, 2, 2, 1),
    dropout: float = 0.3,
    stem_width: int = 0,
    inner_widths: tuple[int, ...] = (),
) -> keras.Model:
    """emostream's net: a compact ResNet for 48x48 faces.

    Stem at full resolution, then stages at 24, 12, 6 and 3 pixels. Widths and depths are chosen
    to fit the CPU budget (>= 2,000 crops/s at batch 64 on 2 cores, see bench/). ``inner_widths``: each
    stage's width inside its blocks (between a block's two convolutions), ``widths`` where not given.
    """
    if inner_widths and len(inner_widths) != len(widths):
        raise ValueError(f"inner_widths {inner_widths} must give one width a stage, as widths {widths} do")
    inputs, x = _inputs()
    x = _conv_bn_relu(x, stem_width or widths[0] // 2, name="stem1")
    x = _conv_bn_relu(x, widths[0], stride=2, name="stem2")
    for stage, (filters, count) in enumerate(zip(widths, blocks, strict=True)):
        for block in range(count):
            stride = 2 if (block == 0 and stage > 0) else 1
            inner = inner_widths[stage] if inner_widths else filters
            x = _residual_block(x, filters, stride, name=f"s{stage + 1}b{block + 1}", inner=inner)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    # logits in float32 even under a mixed-precision policy
    outputs = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="emonet")


def emonet_small(num_classes: int = 7) -> keras.Model:
    return emonet(num_classes, widths=(24, 48, 96, 192), blocks=(1, 1, 2, 1))


def emonet_wide(num_classes: int = 7) -> keras.Model:
    """Wider, shallower emonet: one block a stage at widths 48-384 (2.8 M parameters).

    Chosen over deeper variants by training cost on the 2-core CPU (bf16: 75 s/epoch, against
    134 s for one more block at 12x12 and 173 s for blocks (1, 2, 2, 1)).
    """
    return emonet(num_classes, widths=(48, 96, 192, 384), blocks=(1, 1, 1, 1))


SLIM_INNER_WIDTHS = (32, 64, 144, 288)


def emonet_slim(num_classes: int = 7) -> keras.Model:
    """``emonet_wide`` with its blocks narrowed inside (widths 32, 64, 144, 288 between each block's two
    convolutions; the shortcuts keep 48-384): about three quarters of its MACs, so that its int8 export keeps
    2,000 crops/s on AVX2-only hosts too. Made by pruning a trained ``emonet_wide`` (``training/prune.py``) and
    fine-tuning it, or trained from scratch."""
    return emonet(num_classes, widths=(48, 96, 192, 384), blocks=(1, 1, 1, 1), inner_widths=SLIM_INNER_WIDTHS)


def emonet_deep(num_classes: int = 7) -> keras.Model:
    """emonet_wide's widths with a second block at 12x12 and 6x6 (3.6 M parameters, 268 MFLOPs).

    Each extra block costs about 48 MFLOPs wherever it sits (channels double as the side halves), but
    ONNX Runtime runs the low-resolution, wide ones fastest: ``python -m training.arch_speed`` times
    untrained int8 exports at batch 64 on 2 cores, and of the deeper layouts only this one and
    (1, 1, 2, 2) keep a fifth or more over the 2,000 crops/s target (training/checkpoints/README.md).
    """
    return emonet(num_classes, widths=(48, 96, 192, 384), blocks=(1, 2, 2, 1))


def resnet18(num_classes: int = 7) -> keras.Model:
    """ResNet-18's stages (two blocks each, widths 64-512) on emonet's stride-2 stem: a teacher, not a runtime model.

    0.65 GFLOPs and 11.2 M parameters: far too slow for the 2,000 crops/s budget on 2 cores. It is trained to teach
    the next emonet, since every emonet layout and their ensembles stop near 70% on the dev split; whether this net
    gets further is what its run measures (training/checkpoints/README.md, ``resnet18-teacher/``).
    """
    return emonet(num_classes, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2))


def shallow_cnn(num_classes: int = 7) -> keras.Model:
    """Seed baseline: the shallow 3-conv CNN (reported at ~62% on FER2013)."""
    inputs, x = _inputs()
    for index, filters in enumerate((32, 64, 128)):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{index + 1}")(x)
        x = layers.MaxPooling2D(name=f"pool{index + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="fc")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits")(x), name="shallow_cnn")


def vgg_style(num_classes: int = 7) -> keras.Model:
    """Seed baseline: the Keras VGG-style CNN (reported at 56-65%)."""
    inputs, x = _inputs()
    for stage, filters in enumerate((64, 128, 256, 512)):
        for conv in range(2):
            x = _conv_bn_relu(x, filters, name=f"b{stage + 1}c{conv + 1}")
        x = layers.MaxPooling2D(name=f"pool{stage + 1}")(x)
        x = layers.Dropout(0.25, name=f"drop{stage + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.5, name="fc_drop")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits")(x), name="vgg_style")


def mini_xception(num_classes: int = 7) -> keras.Model:
    """Seed baseline: mini-Xception, the model of the ``fer`` package (65.5% reported)."""
    inputs, x = _inputs()
    x = _conv_bn_relu(x, 8, name="stem1")
    x = _conv_bn_relu(x, 8, name="stem2")
    for index, filters in enumerate((16, 32, 64, 128)):
        residual = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False, name=f"x{index}_res")(x)
        residual = _bn(f"x{index}_res_bn")(residual)
        y = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"x{index}_sep1")(x)
        y = _bn(f"x{index}_bn1")(y)
        y = layers.ReLU(name=f"x{index}_relu")(y)
        y = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"x{index}_sep2")(y)
        y = _bn(f"x{index}_bn2")(y)
        y = layers.MaxPooling2D(3, strides=2, padding="same", name=f"x{index}_pool")(y)
        x = layers.Add(name=f"x{index}_add")([y, residual])
    x = layers.Conv2D(num_classes, 3, padding="same", name="head")(x)
    outputs = layers.GlobalAveragePooling2D(name="logits")(x)
    return keras.Model(inputs, outputs, name="mini_xception")


ARCHITECTURES: dict[str, Callable[[int], keras.Model]] = {
    "emonet": emonet,
    "emonet_small": emonet_small,
    "emonet_wide": emonet_wide,
    "emonet_slim": emonet_slim,
    "emonet_deep": emonet_deep,
    "resnet18": resnet18,
    "shallow_cnn": shallow_cnn,
    "vgg_style": vgg_style,
    "mini_xception": mini_xception,
}


def build(name: str, num_classes: int = 7) -> keras.Model:
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose from {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name](num_classes)
