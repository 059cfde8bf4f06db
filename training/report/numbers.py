"""Pure-NumPy numbers of the report: duplicate images, temperature undo, NLL, FER+ agreement, training time.

Nothing here imports Keras, so every function is unit-testable on small fakes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from emostream.core.labels import SEVEN_TO_SIX

_TINY = 1e-45  # below the smallest float32 denormal: log() of an underflowed probability stays finite


def image_keys(images: np.ndarray) -> np.ndarray:
    """One 128-bit digest per image (its raw bytes): equal keys mean pixel-identical images."""
    return np.array(
        [hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest() for image in images]
    )


def duplicate_mask(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """True where an image of ``images`` occurs pixel for pixel in ``reference``."""
    if len(images) == 0:
        return np.zeros(0, dtype=bool)
    known = set(image_keys(reference).tolist()) if len(reference) else set()
    return np.array([key in known for key in image_keys(images).tolist()], dtype=bool)


def masked_accuracy(probabilities: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> dict[str, float | int | None]:
    """Accuracy on the part of a split where ``mask`` holds (``None`` for an empty part)."""
    count = int(mask.sum())
    correct = probabilities[mask].argmax(axis=1) == labels[mask]
    return {"count": count, "accuracy": round(float(correct.mean()), 4) if count else None}


def untemper(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(z / T) -> softmax(z): ``p ** T`` renormalised, done in log space."""
    logits = np.log(np.clip(probabilities.astype(np.float64), _TINY, None)) * temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean NLL of the true class, in nats."""
    picked = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    return float(-np.log(np.clip(picked, _TINY, None)).mean())


def training_time(timing_path: Path) -> dict[str, object]:
    """Sum of the per-epoch wall times of ``timing.jsonl`` (one JSON object per finished epoch)."""
    if not timing_path.is_file():
        return {"epochs_timed": 0, "seconds": 0.0, "backends": [], "median_epoch_seconds": None, "cpu": None}
    records = [json.loads(line) for line in timing_path.read_text().splitlines() if line.strip()]
    with_cpu = [r for r in records if "cpu_seconds" in r]
    return {
        "epochs_timed": len(records),
        "seconds": round(sum(float(r.get("seconds", 0.0)) for r in records), 1),
        "backends": sorted({str(r.get("backend", "unknown")) for r in records}),
        # robust to an epoch that also spans a pause (a stopped process) or another job's load
        "median_epoch_seconds": float(np.median([float(r.get("seconds", 0.0)) for r in records])) if records else None,
        "cpu": {"epochs": len(with_cpu), "seconds": round(sum(float(r["cpu_seconds"]) for r in with_cpu), 1)}
        if with_cpu
        else None,
    }


def read_history(history_path: Path) -> dict[str, list[float]]:
    """``history.csv`` (Keras CSVLogger) as columns of floats; empty when the file is absent."""
    if not history_path.is_file():
        return {}
    lines = [line for line in history_path.read_text().splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    header = lines[0].split(",")
    rows = [[float(value) for value in line.split(",")] for line in lines[1:]]
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}


def pick_samples(labels: np.ndarray, total: int, seed: int, num_classes: int) -> np.ndarray:
    """``total`` sample indices, one per class present first (class order), the rest at random; no repeats."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    chosen: list[int] = []
    for label in range(num_classes):
        members = order[labels[order] == label]
        if len(members) and len(chosen) < total:
            chosen.append(int(members[0]))
    taken = set(chosen)
    rest = [int(i) for i in order if int(i) not in taken]
    return np.array(chosen + rest[: max(0, total - len(chosen))], dtype=np.int64)


def ferplus_majority(votes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FER+ majority class per sample (ties: the lower class index) and whether the sample has votes.

    ``votes`` is (csv rows, 7) in FER2013 order; ``rows`` the samples' CSV rows (-1 where unknown).
    """
    known = (rows >= 0) & (rows < len(votes))
    sample_votes = np.zeros((len(rows), votes.shape[1]), dtype=np.float32)
    sample_votes[known] = votes[rows[known]]
    return sample_votes.argmax(axis=1), sample_votes.sum(axis=1) > 0


def ferplus_agreement(
    probabilities: np.ndarray, labels: np.ndarray, rows: np.ndarray, votes: np.ndarray
) -> dict[str, float | int] | None:
    """Model (argmax) and FER2013 labels, each against the FER+ majority, on the samples that have votes.

    7-class probabilities only (FER+ votes are in FER2013's 7 classes); None when that or no vote applies.
    """
    if probabilities.shape[1] != 7:
        return None
    majority, voted = ferplus_majority(votes, rows)
    if not voted.any():
        return None
    return {
        "count": int(voted.sum()),
        "accuracy": float((probabilities[voted].argmax(axis=1) == majority[voted]).mean()),
        "label_agreement": float((labels[voted] == majority[voted]).mean()),
    }


def merge_to_six(probabilities: np.ndarray) -> np.ndarray:
    """7-class probabilities -> the 6-class variant's (Disgust's mass added to Angry's)."""
    to_six = np.eye(max(SEVEN_TO_SIX) + 1)[list(SEVEN_TO_SIX)]  # (7, 6): row i is class i's 6-class one-hot
    return probabilities.astype(np.float64) @ to_six


def six_class_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy on the 6-class task; 7-class inputs (probabilities and labels) are merged first."""
    if probabilities.shape[1] == 7:
        probabilities = merge_to_six(probabilities)
        labels = np.array(SEVEN_TO_SIX, dtype=np.int64)[labels]
    return float((probabilities.argmax(axis=1) == labels).mean())
