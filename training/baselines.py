"""Score the seeds' baselines, trained with this repo's code, on FER2013 PublicTest: the card's comparison rows.

    python -m training.baselines --run training/checkpoints/shallow_cnn --run training/checkpoints/mini_xception \\
        --data ../shared/data/fer2013/fer2013_train_val.npz --out build/baselines.json

Each run folder's last epoch (the committed ``resume.npz``, else ``last.keras``) is scored with Keras, no
TTA, on PublicTest; its parameters and FLOPs are counted the same way as for our model. The JSON list is what
``training.evaluate --baselines`` takes. A run that has not finished its schedule says so in its notes.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emostream.classifier.scoring import score
from training.checkpoint import load_checkpoint
from training.data import SPLIT_VAL, FerSplit, load_fer2013, to_six_classes
from training.report.numbers import read_history
from training.report.run_info import load_run_config, train_command
from training.run_files import RESUME_STATE
from training.train import TrainConfig


def run_checkpoint(run_dir: Path) -> Path:
    """The run's last epoch: the committed ``resume.npz`` (float32 weights; a clean checkout scores the same
    network), else ``last.keras``."""
    for name in (RESUME_STATE, "last.keras"):
        if (run_dir / name).is_file():
            return run_dir / name
    raise FileNotFoundError(f"{run_dir}: no resume.npz or last.keras")


@dataclass(frozen=True)
class ScoredRun:
    """A run's last epoch on PublicTest (Keras, no TTA): probabilities in the run's own class space."""

    config: TrainConfig
    checkpoint: Path
    model: Any
    val: FerSplit  # labels in the run's class space (6-class runs: Disgust merged into Angry)
    probabilities: np.ndarray

    @property
    def progress(self) -> str:
        """'20 of 20 epochs, resume.npz', flagged when the schedule has not finished."""
        run_dir = self.checkpoint.parent
        epochs_done = len(read_history(run_dir / "history.csv").get("epoch", []))
        notes = f"{epochs_done} of {self.config.epochs} epochs, {self.checkpoint.name}"
        return notes + (" (schedule not finished)" if epochs_done < self.config.epochs else "")


def score_run(run_dir: Path, data: Path) -> ScoredRun:
    """Load the run's last epoch and predict FER2013 PublicTest with it."""
    config, _ = load_run_config(run_dir)
    val = load_fer2013(data).split(SPLIT_VAL)
    if config.classes == 6:
        val = to_six_classes(val)
    checkpoint = run_checkpoint(run_dir)
    model = load_checkpoint(checkpoint)
    logits = np.asarray(model.predict((val.images.astype(np.float32) / 255.0)[..., None], batch_size=256, verbose=0))
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return ScoredRun(config, checkpoint, model, val, exp / exp.sum(axis=1, keepdims=True))


def baseline_row(run_dir: Path, data: Path) -> dict[str, Any]:
    """One ``training.report.run_info.Baseline`` row for the run in ``run_dir``."""
    from training.report.macs import summarise

    run = score_run(run_dir, data)
    scores = score(run.probabilities, run.val.labels)
    architecture = summarise(run.model)
    return {
        "name": f"{run.config.arch} (seed baseline, trained here)",
        "publictest_accuracy": scores.accuracy,
        "macro_f1": scores.macro_f1,
        "params": architecture["params"],
        "flops": architecture["flops"],
        "command": train_command(run.config, run_dir),
        "notes": run.progress,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, action="append", required=True, help="a baseline's run folder")
    parser.add_argument("--data", type=Path, required=True, help="FER2013 npz / csv / folder (PublicTest = x_val)")
    parser.add_argument("--out", type=Path, required=True, help="JSON list for training.evaluate --baselines")
    args = parser.parse_args(argv)
    rows = [baseline_row(run_dir, args.data) for run_dir in args.run if (run_dir / "config.json").is_file()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    for row in rows:
        print(f"{row['name']}: PublicTest {row['publictest_accuracy']:.2%} macro-F1 {row['macro_f1']:.3f}")


if __name__ == "__main__":
    main()
