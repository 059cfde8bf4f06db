"""The label options, one change at a time: the same recipe trained on FER2013 labels, on FER+ crowd labels
(soft or majority) and with 6 classes, each scored on FER2013 PublicTest: the card's "Label options" table.

    python -m training.options --run training/checkpoints/shallow_cnn \\
        --run training/checkpoints/options/shallow_cnn-ferplus-soft \\
        --run training/checkpoints/options/shallow_cnn-ferplus-majority \\
        --run training/checkpoints/options/shallow_cnn-6-classes \\
        --data ../shared/data/fer2013/fer2013_train_val.npz --out build/options.json

Every run's last epoch is scored with Keras, no TTA, three ways:

- on the FER2013 labels in its own class space (7, or 6 with Disgust merged into Angry): what the option
  does to FER2013-label accuracy;
- merged to 6 classes (a 7-class model's Disgust probability added to Angry's), so a 6-class run and a
  7-class run are compared on the same task;
- against the FER+ crowd majority on the PublicTest images that have FER+ votes (7-class runs).

The JSON list is what ``training.evaluate --options`` takes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from emostream.classifier.scoring import score
from training.baselines import score_run
from training.ferplus import load_votes
from training.report.numbers import ferplus_agreement, six_class_accuracy
from training.report.run_info import train_command
from training.train import TrainConfig


def label_source(config: TrainConfig) -> str:
    """What the run trained on: 'FER2013', 'FER+ soft' or 'FER+ majority'."""
    return f"FER+ {config.ferplus_mode}" if config.ferplus else "FER2013"


def option_row(run_dir: Path, data: Path, votes: np.ndarray | None) -> dict[str, Any]:
    """One ``training.report.run_info.LabelOption`` row for the run in ``run_dir``."""
    run = score_run(run_dir, data)
    scores = score(run.probabilities, run.val.labels)
    vs_ferplus = None if votes is None else ferplus_agreement(run.probabilities, run.val.labels, run.val.rows, votes)
    return {
        "name": run_dir.name,
        "arch": run.config.arch,
        "labels": label_source(run.config),
        "classes": run.config.classes,
        "publictest_accuracy": scores.accuracy,
        "macro_f1": scores.macro_f1,
        "six_class_accuracy": six_class_accuracy(run.probabilities, run.val.labels),
        "ferplus_majority": vs_ferplus,
        "command": train_command(run.config, run_dir),
        "notes": run.progress,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, action="append", required=True, help="a run folder of the study")
    parser.add_argument("--data", type=Path, required=True, help="FER2013 npz / csv / folder (PublicTest = x_val)")
    parser.add_argument(
        "--ferplus", type=Path, default=None, help="FER+ label CSV (default: ferplus_labels.csv beside --data)"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON list for training.evaluate --options")
    args = parser.parse_args(argv)
    ferplus = args.ferplus or args.data.parent / "ferplus_labels.csv"
    votes = load_votes(ferplus) if ferplus.is_file() else None
    rows = [option_row(run_dir, args.data, votes) for run_dir in args.run if (run_dir / "config.json").is_file()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    for row in rows:
        vs_ferplus = row["ferplus_majority"]["accuracy"] if row["ferplus_majority"] else float("nan")
        print(
            f"{row['name']} ({row['labels']}, {row['classes']} classes): PublicTest {row['publictest_accuracy']:.2%}"
            f", 6-class {row['six_class_accuracy']:.2%}, vs FER+ majority {vs_ferplus:.2%}"
        )


if __name__ == "__main__":
    main()
