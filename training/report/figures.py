"""The report's PNGs, drawn on bare matplotlib ``Figure`` objects (no pyplot state, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI = 120


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return path


def confusion_png(confusion: np.ndarray, classes: Sequence[str], title: str, path: Path) -> Path:
    """Row-normalised confusion matrix (recall on the diagonal), counts annotated in each cell."""
    rows = confusion.sum(axis=1, keepdims=True)
    normalised = confusion / np.maximum(rows, 1)
    figure = Figure(figsize=(7.5, 6.5))
    axis = figure.subplots()
    image = axis.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    for (i, j), count in np.ndenumerate(confusion):
        colour = "white" if normalised[i, j] > 0.5 else "black"
        axis.text(j, i, f"{normalised[i, j]:.2f}\n({count})", ha="center", va="center", fontsize=8, color=colour)
    axis.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axis.set_yticks(range(len(classes)), [f"{c} ({int(n)})" for c, n in zip(classes, rows[:, 0], strict=True)])
    axis.set_xlabel("predicted")
    axis.set_ylabel("true (count)")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.046, label="fraction of the true class")
    return _save(figure, path)


def learning_curves_png(history: dict[str, list[float]], path: Path) -> Path:
    """Loss and accuracy per epoch, train vs dev (``val_*`` in history.csv is the dev split)."""
    epochs = np.asarray(history.get("epoch", range(len(next(iter(history.values()), [])))), dtype=float) + 1
    panels = [("loss", "loss (label-smoothed CE)"), ("acc", "accuracy")]
    has_lr = "learning_rate" in history
    figure = Figure(figsize=(5.0 * (2 + has_lr), 4.0))
    axes = figure.subplots(1, 2 + has_lr)
    for axis, (key, label) in zip(axes, panels, strict=False):
        for prefix, name in (("", "train (augmented)"), ("val_", "dev")):
            if f"{prefix}{key}" in history:
                axis.plot(epochs, history[f"{prefix}{key}"], marker="o", markersize=3, label=name)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    if has_lr:
        axes[2].plot(epochs, history["learning_rate"], color="grey")
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("learning rate (end of epoch)")
        axes[2].grid(alpha=0.3)
    return _save(figure, path)


def reliability_png(panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, float]], path: Path) -> Path:
    """Reliability diagrams: one column per (title, mean confidence, accuracy, count, ECE), samples per bin below."""
    figure = Figure(figsize=(5.0 * len(panels), 6.0))
    axes = figure.subplots(2, len(panels), squeeze=False, gridspec_kw={"height_ratios": [3, 1]})
    for column, (title, confidence, accuracy, counts, ece) in enumerate(panels):
        axis, below = axes[0, column], axes[1, column]
        bins = len(counts)
        centres = (np.arange(bins) + 0.5) / bins
        filled = counts > 0
        axis.bar(centres[filled], accuracy[filled], width=1.0 / bins, edgecolor="black", alpha=0.7, label="accuracy")
        axis.bar(
            centres[filled], confidence[filled] - accuracy[filled], bottom=accuracy[filled], width=1.0 / bins,
            color="red", alpha=0.3, edgecolor="red", label="gap to mean confidence",
        )  # fmt: skip
        axis.plot([0, 1], [0, 1], "k--", linewidth=1)
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.set_ylabel("accuracy")
        axis.set_title(f"{title}\nECE {ece:.3f}")
        axis.legend(loc="upper left", fontsize=8)
        below.bar(centres, counts / max(int(counts.sum()), 1), width=1.0 / bins, color="grey", edgecolor="black")
        below.set_xlim(0, 1)
        below.set_xlabel("confidence (max probability)")
        below.set_ylabel("fraction of images")
    return _save(figure, path)


def feature_maps_png(
    images: np.ndarray, maps: Sequence[tuple[str, np.ndarray]], captions: Sequence[str], path: Path, channels: int = 8
) -> Path:
    """For each face: the input, then ``channels`` channels of each named layer's activation, one row per layer."""
    rows = len(images) * len(maps)
    figure = Figure(figsize=(1.4 * (channels + 1), 1.5 * rows))
    axes = figure.subplots(rows, channels + 1, squeeze=False)
    for face, (image, caption) in enumerate(zip(images, captions, strict=True)):
        for depth, (layer, activation) in enumerate(maps):
            row = face * len(maps) + depth
            axes[row, 0].imshow(image, cmap="gray", vmin=0, vmax=255)
            axes[row, 0].set_title(caption if depth == 0 else "", fontsize=7)
            axes[row, 0].set_ylabel(layer, fontsize=7)
            for channel in range(channels):
                axis = axes[row, channel + 1]
                if channel < activation.shape[-1]:
                    axis.imshow(activation[face, :, :, channel], cmap="viridis")
                    axis.set_title(f"ch {channel}", fontsize=6)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    return _save(figure, path)


def gradcam_png(
    images: np.ndarray,
    heatmaps: np.ndarray,
    true: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    layer: str,
    path: Path,
    columns: int = 6,
) -> Path:
    """Grad-CAM of the predicted class over each face; the title is green when the prediction is right."""
    rows = -(-len(images) // columns)
    figure = Figure(figsize=(2.1 * columns, 2.4 * rows + 0.4))
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.set_xticks([])
        axis.set_yticks([])
        if index >= len(images):
            axis.axis("off")
            continue
        axis.imshow(images[index], cmap="gray", vmin=0, vmax=255)
        axis.imshow(heatmaps[index], cmap="jet", alpha=0.4, vmin=0.0, vmax=1.0)
        right = true[index] == predicted[index]
        axis.set_title(
            f"true {true[index]}\npred {predicted[index]} {confidence[index]:.2f}",
            fontsize=8, color="green" if right else "red",
        )  # fmt: skip
    figure.suptitle(f"Grad-CAM on '{layer}' (class: the predicted one)", fontsize=10)
    return _save(figure, path)
