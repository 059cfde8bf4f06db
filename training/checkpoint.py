"""Load a trained model from a run folder's checkpoint: a full ``.keras`` file or the committed ``resume.npz``.

The ``.keras`` files (22 MB for ``emonet_wide``) stay out of git; ``resume.npz`` (``training/resume_state.py``)
is committed so that a clean checkout can export and evaluate the shipped model. From it the network is rebuilt
from the run's ``config.json`` (in float32, whatever precision it was trained in) and given its weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.report.run_info import load_run_config
from training.resume_state import load_weights
from training.run_files import RESUME_STATE


def load_checkpoint(path: Path) -> Any:
    """The Keras model in ``path`` (``.keras``, or a weights ``.npz`` beside the run's ``config.json``), uncompiled."""
    import keras

    import training.models  # registers the custom layers; builds from config

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    if path.suffix != ".npz":
        return keras.saving.load_model(path, compile=False)
    config, _ = load_run_config(path.parent)
    keras.mixed_precision.set_global_policy("float32")
    model = training.models.build(config.arch, config.classes)
    load_weights(model, path)
    return model


def default_checkpoint(run_dir: Path) -> Path:
    """``best.keras`` where the run folder has it (the run happened here), else the committed ``resume.npz``."""
    best = run_dir / "best.keras"
    return best if best.is_file() else run_dir / RESUME_STATE
