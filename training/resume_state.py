"""A compact resume state: weights in float32, optimizer slots in float16, the step count exact.

A ``.keras`` checkpoint of ``emonet_wide`` with SGD momentum is 22 MB; this is about 12 MB compressed, small
enough to commit so that a run spans sessions. Resuming from it continues the schedule at the same step. A larger
network's state is stored in several files, each under the repository's limit (``training/npz_store.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from training.npz_store import MAX_PART_BYTES, load_arrays, save_arrays


def save_state(model: Any, path: Path, max_part_bytes: int = MAX_PART_BYTES) -> None:
    """Write ``model``'s weights and its optimizer's variables to ``path`` (.npz, in parts where it is large)."""
    arrays: dict[str, np.ndarray] = {f"w{i}": np.asarray(v, np.float32) for i, v in enumerate(model.get_weights())}
    for i, variable in enumerate(model.optimizer.variables):
        value = np.asarray(variable.numpy())
        arrays[f"o{i}"] = value if value.dtype.kind in "iu" else value.astype(np.float16)
    save_arrays(path, arrays, max_part_bytes)


def load_weights(model: Any, path: Path) -> None:
    """Only the weights of what :func:`save_state` wrote, into a freshly built ``model`` (export, evaluation)."""
    model.set_weights(_weights(load_arrays(path)))


def init_weights(model: Any, path: Path) -> None:
    """Start ``model`` from the weights of another run's checkpoint (``.npz`` from :func:`save_state`, or a
    ``.keras`` file); every weight's shape must match, else the checkpoint is another network."""
    if path.suffix == ".npz":
        weights = _weights(load_arrays(path))
    else:
        import keras

        import training.models  # noqa: F401  (registers the custom layers)

        weights = keras.saving.load_model(path, compile=False).get_weights()
    expected = [tuple(w.shape) for w in model.get_weights()]
    found = [tuple(w.shape) for w in weights]
    if found != expected:
        first = next(i for i in range(max(len(found), len(expected))) if found[i : i + 1] != expected[i : i + 1])
        raise ValueError(
            f"{path} is not a checkpoint of this architecture: it holds {len(found)} weights, the model "
            f"{len(expected)}, and weight #{first} is {found[first : first + 1]} against {expected[first : first + 1]}"
        )
    model.set_weights(weights)


def _weights(data: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [data[f"w{i}"] for i in range(sum(1 for k in data if k.startswith("w")))]


def load_state(model: Any, path: Path) -> None:
    """Restore what :func:`save_state` wrote into a freshly built and compiled ``model``."""
    data = load_arrays(path)
    model.set_weights(_weights(data))
    model.optimizer.build(model.trainable_variables)
    variables = model.optimizer.variables
    count = sum(1 for k in data if k.startswith("o"))
    if count != len(variables):
        raise ValueError(f"{path} holds {count} optimizer variables, the optimizer has {len(variables)}")
    for i, variable in enumerate(variables):
        variable.assign(data[f"o{i}"].astype(variable.dtype))
