"""FER+ crowd labels (Microsoft's ``fer2013new.csv``), joined to FER2013 samples by CSV row.

FER+ columns are in their own order and add contempt/unknown/NF; only the seven shared classes
are used, mapped into FER2013 order. Samples without a FER+ row (row -1, or no votes on the seven
classes) keep their FER2013 label.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from training.data import DataFormatError, FerSplit

# FER+ vote column -> FER2013 class index
_FERPLUS_TO_FER = {"anger": 0, "disgust": 1, "fear": 2, "happiness": 3, "sadness": 4, "surprise": 5, "neutral": 6}


def load_votes(path: Path) -> np.ndarray:
    """Vote counts (rows, 7) in FER2013 class order, one row per ``fer2013.csv`` row."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(_FERPLUS_TO_FER) - set(reader.fieldnames or [])
        if missing:
            raise DataFormatError(f"{path}: not a FER+ label file, missing {sorted(missing)}")
        votes = [[float(record[column]) for column in _FERPLUS_TO_FER] for record in reader]
    ordered = np.zeros((len(votes), 7), dtype=np.float32)
    raw = np.array(votes, dtype=np.float32)
    for position, fer_index in enumerate(_FERPLUS_TO_FER.values()):
        ordered[:, fer_index] = raw[:, position]
    return ordered


def soft_targets(split: FerSplit, votes: np.ndarray, mode: str) -> np.ndarray:
    """Training targets (N, 7) from FER+ votes: ``soft`` (vote distribution) or ``majority``."""
    targets = np.eye(7, dtype=np.float32)[split.labels]
    known = (split.rows >= 0) & (split.rows < len(votes))
    sample_votes = np.zeros((len(split), 7), dtype=np.float32)
    sample_votes[known] = votes[split.rows[known]]
    has_votes = sample_votes.sum(axis=1) > 0
    if mode == "soft":
        targets[has_votes] = sample_votes[has_votes] / sample_votes[has_votes].sum(axis=1, keepdims=True)
    elif mode == "majority":
        targets[has_votes] = np.eye(7, dtype=np.float32)[sample_votes[has_votes].argmax(axis=1)]
    else:
        raise ValueError(f"FER+ mode must be 'soft' or 'majority', not {mode!r}")
    return targets
