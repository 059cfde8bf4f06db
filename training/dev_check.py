"""Score exported models, alone and as an ensemble, on a training run's dev split: the numbers behind a choice.

The dev split is the run's own (``config.json``: data, dev fraction, seed), so models trained with that seed
never saw it. PublicTest stays untouched: choices such as which teacher to distil from are made here.

    python -m training.dev_check --run-dir training/checkpoints/emonet-v4 \\
        training/teachers/emonet-v2.int8.onnx training/teachers/emonet-v3.int8.onnx
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from emostream.classifier.engine import OnnxEmotionClassifier
from emostream.commands.eval_model import predict
from training.data import FerSplit
from training.report.run_info import load_run_config
from training.train import prepare


@dataclass(frozen=True)
class DevScore:
    name: str
    accuracy: float
    flip_accuracy: float


def run_dev_split(run_dir: Path, data: Path | None = None) -> FerSplit:
    """The dev part the run in ``run_dir`` split off Training, as its training saw it (``data``: elsewhere)."""
    config, _ = load_run_config(run_dir)
    return prepare(replace(config, data=str(data)) if data else config)[1]


def mean_accuracy(probabilities: list[np.ndarray], labels: np.ndarray) -> float:
    return float(np.mean(np.mean(probabilities, axis=0).argmax(axis=1) == labels))


def model_labels(models: list[Path]) -> list[str]:
    """Each model's file name, or its path as given where two models share a name (``build/v7/emonet.onnx``)."""
    names = [path.name for path in models]
    return [str(path) if names.count(path.name) > 1 else path.name for path in models]


def score(models: list[Path], split: FerSplit, threads: int = 0) -> list[DevScore]:
    """Each model alone, then (for two or more) their ensemble: the mean of their probabilities.

    Scored through the runtime's path (``OnnxEmotionClassifier``, as ``emostream eval-model``); each model
    runs once on the faces and once on their mirrors, and the flip-averaged and ensemble scores reuse those.
    """
    plain, mirrored = [], []
    for path in models:
        classifier = OnnxEmotionClassifier(path, providers=("CPUExecutionProvider",), intra_op_threads=threads)
        plain.append(predict(classifier, split.images, tta=False))
        mirrored.append(predict(classifier, split.images[:, :, ::-1], tta=False))
    labels = model_labels(models)
    groups = [[index] for index in range(len(models))] + ([list(range(len(models)))] if len(models) > 1 else [])
    return [
        DevScore(
            " + ".join(labels[index] for index in group),
            mean_accuracy([plain[index] for index in group], split.labels),
            mean_accuracy([plain[index] for index in group] + [mirrored[index] for index in group], split.labels),
        )
        for group in groups
    ]


def format_table(scores: list[DevScore], count: int) -> str:
    width = max(len(s.name) for s in scores)
    lines = [f"dev split: {count} images", f"{'model':<{width}}  accuracy  flip-averaged"]
    lines += [f"{s.name:<{width}}  {s.accuracy:8.2%}  {s.flip_accuracy:13.2%}" for s in scores]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="exported ONNX models (calibrated probabilities out)")
    parser.add_argument("--run-dir", type=Path, required=True, help="the training run whose dev split to use")
    parser.add_argument("--data", type=Path, help="FER2013 data, if not where the run's config.json says")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: its default)")
    args = parser.parse_args(argv)
    split = run_dev_split(args.run_dir, args.data)
    print(format_table(score(args.models, split, args.threads), len(split)))


if __name__ == "__main__":
    main()
