"""Looking inside the Keras checkpoint: size and cost, first-layer activations, Grad-CAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from training.report import figures
from training.report.numbers import pick_samples

SAMPLE_SEED = 2013
GRADCAM_FACES = 12
FEATURE_MAP_FACES = 3


def inspect_checkpoint(
    checkpoint: Path,
    images: np.ndarray,
    labels: np.ndarray,
    classes: tuple[str, ...],
    temperature: float,
    out_dir: Path,
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Architecture numbers, ``feature_maps.png`` and ``gradcam.png``; returns (architecture, figures, notes).

    ``images`` are PublicTest uint8 crops (N, 48, 48); the faces shown are one per class first, then random ones.
    Grad-CAM explains the predicted class; the confidence shown is softmax(logits / ``temperature``), as at runtime.
    """
    from training.checkpoint import load_checkpoint
    from training.report.macs import summarise
    from training.report.saliency import (
        BackendNotSupportedError,
        activations,
        first_conv_layers,
        gradcam,
        last_conv_stage,
    )

    model = load_checkpoint(checkpoint)
    architecture = summarise(model)
    made: dict[str, str] = {}
    notes: list[str] = []
    picks = pick_samples(labels, GRADCAM_FACES, SAMPLE_SEED, len(classes))
    faces = images[picks]
    inputs = (faces.astype(np.float32) / 255.0)[..., None]

    conv_names = first_conv_layers(model, 2)
    maps = activations(model, inputs[:FEATURE_MAP_FACES], conv_names)
    captions = [f"#{i} true {classes[labels[i]]}" for i in picks[:FEATURE_MAP_FACES]]
    figures.feature_maps_png(
        faces[:FEATURE_MAP_FACES], list(zip(conv_names, maps, strict=True)), captions, out_dir / "feature_maps.png"
    )
    made["feature_maps"] = "feature_maps.png"
    architecture["feature_map_layers"] = conv_names

    logits = np.asarray(model.predict(inputs, verbose=0))
    predicted = logits.argmax(axis=1)
    scaled = logits / temperature
    exp = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    confidence = (exp / exp.sum(axis=1, keepdims=True)).max(axis=1)
    try:
        layer = last_conv_stage(model)
        heatmaps = gradcam(model, inputs, predicted, layer)
    except BackendNotSupportedError as error:
        notes.append(f"gradcam.png not drawn: {error}")
        return architecture, made, notes
    figures.gradcam_png(
        faces,
        heatmaps,
        [classes[i] for i in labels[picks]],
        [classes[i] for i in predicted],
        confidence.tolist(),
        layer,
        out_dir / "gradcam.png",
    )
    made["gradcam"] = "gradcam.png"
    architecture["gradcam_layer"] = layer
    return architecture, made, notes
