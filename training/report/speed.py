"""Crops per second of the exported models through the runtime engine, for the card's int8 speed-up.

The median over ``repeats`` timed calls after warm-up, at one batch size, fp32 and int8 in the same run (a ratio
taken on one machine at one time; ``make bench`` has the full table against the ``fer`` package).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def crops_per_second(run: Callable[[np.ndarray], object], crops: np.ndarray, batch: int, repeats: int) -> float:
    """``batch`` / the median seconds of ``run(crops[:batch])`` over ``repeats`` calls, after 3 warm-up calls."""
    x = crops[:batch]
    for _ in range(3):
        run(x)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(x)
        timings.append(time.perf_counter() - started)
    return batch / statistics.median(timings)


def model_speeds(models: dict[str, Path], crops: np.ndarray, batch: int = 64, repeats: int = 30) -> dict[str, Any]:
    """Crops/s of each ``{format: path}`` that exists (CPU provider, all cores), and each one's ratio to the first."""
    from emostream.classifier.engine import OnnxEmotionClassifier
    from emostream.core.host import cpu_description

    speeds: dict[str, float] = {}
    for name, path in models.items():
        if path.is_file():
            engine = OnnxEmotionClassifier(path, ("CPUExecutionProvider",))
            speeds[name] = round(crops_per_second(engine.classify, crops, batch, repeats), 1)
    first = next(iter(speeds.values()), None)
    return {
        "batch": batch,
        "repeats": repeats,
        "cores": os.cpu_count(),
        "cpu": cpu_description(),
        "crops_per_s": speeds,
        "ratio_to_first": {name: round(value / first, 2) for name, value in speeds.items()} if first else {},
    }
