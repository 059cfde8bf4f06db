"""How far a model's logits have drifted by a common offset, the failure that ended ``emonet-v5``.

    python -m training.logit_drift training/checkpoints/emonet-v3 training/checkpoints/emonet-v5

Softmax ignores a constant added to all of a face's logits, so the loss cannot hold that offset back once something
pushes it: here TensorFlow's cross-entropy gradient, biased by targets that did not sum to 1 (``training/distill.py``).
A healthy run's logits stay within a few units; a drifting one's largest |logit| grows while their spread (largest
minus smallest, what the softmax sees) does not, the pooled features grow, and so does the mean of the logits
layer's kernel over the classes, the direction that moves all logits together. Measured on the first
``--faces`` Training faces (never PublicTest), one row a run (its last epoch: ``resume.npz``) or checkpoint file.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.data import SPLIT_TRAIN, load_fer2013

DEFAULT_DATA = Path("../shared/data/fer2013/fer2013_train_val.npz")


@dataclass(frozen=True)
class Drift:
    largest_logit: float  # median over the faces of the largest |logit|
    logit_spread: float  # median of (largest - smallest logit): what the softmax sees
    feature_norm: float  # median norm of the pooled features the logits layer reads
    kernel_class_mean: float  # norm of the logits kernel's mean over the classes (moves all logits together)


def measure(model: Any, images: np.ndarray, features_layer: str = "pool", logits_layer: str = "logits") -> Drift:
    """``images``: (N, 48, 48, 1) float32 in [0, 1]."""
    import keras

    features = keras.Model(model.input, model.get_layer(features_layer).output).predict(images, verbose=0)
    logits = model.predict(images, verbose=0)
    kernel = np.asarray(model.get_layer(logits_layer).kernel)
    return Drift(
        largest_logit=float(np.median(np.abs(logits).max(axis=1))),
        logit_spread=float(np.median(logits.max(axis=1) - logits.min(axis=1))),
        feature_norm=float(np.median(np.linalg.norm(features.reshape(len(features), -1), axis=1))),
        kernel_class_mean=float(np.linalg.norm(kernel.mean(axis=1))),
    )


def format_table(rows: list[tuple[str, Drift]]) -> str:
    lines = [
        "checkpoint | median largest abs logit | median logit spread | median feature norm | kernel class-mean norm",
        "--- | --- | --- | --- | ---",
    ]
    for name, drift in rows:
        lines.append(
            f"{name} | {drift.largest_logit:.1f} | {drift.logit_spread:.1f} | {drift.feature_norm:.1f} | "
            f"{drift.kernel_class_mean:.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from training.checkpoint import load_checkpoint
    from training.train import RESUME_STATE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path, help="run folders or checkpoint files")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--faces", type=int, default=1024, help="the first N Training faces")
    args = parser.parse_args(argv)
    training = load_fer2013(args.data).split(SPLIT_TRAIN)
    images = (training.images[: args.faces].astype(np.float32) / 255.0)[..., None]
    rows = []
    for path in args.checkpoints:
        checkpoint = path / RESUME_STATE if path.is_dir() else path
        rows.append((str(checkpoint), measure(load_checkpoint(checkpoint), images)))
    print(format_table(rows))


if __name__ == "__main__":
    main()
