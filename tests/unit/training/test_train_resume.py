"""``training.train`` resumes from the committed ``resume.npz`` alone, with the run's own settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

from training.checkpoint import default_checkpoint, load_checkpoint
from training.train import TrainConfig, train


def _tiny_fer(path: Path) -> Path:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(120, 48, 48), dtype=np.uint8)
    labels = np.arange(120) % 7
    np.savez(path, x_train=images[:96], y_train=labels[:96], x_val=images[96:], y_val=labels[96:])
    return path


def test_resume_from_resume_npz_keeps_the_runs_architecture_and_schedule(tmp_path: Path) -> None:
    data, run = _tiny_fer(tmp_path / "fer.npz"), tmp_path / "run"
    first = TrainConfig(data=str(data), arch="emonet_small", epochs=1, warmup_epochs=0, batch_size=32)
    train(first, run, resume=True)
    # as in a clean checkout: the .keras files are not committed, resume.npz is; the run was planned longer
    for name in ("last.keras", "best.keras"):
        (run / name).unlink()
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(config | {"epochs": 2}))

    train(TrainConfig(data=str(data)), run, resume=True)  # the defaults name another arch and schedule

    assert json.loads((run / "config.json").read_text())["arch"] == "emonet_small"
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 2  # header, epoch 1, epoch 2
    (run / "best.keras").unlink()
    assert default_checkpoint(run) == run / "resume.npz"
    assert load_checkpoint(run / "resume.npz").name == "emonet"  # rebuilt from config.json, weights loaded
