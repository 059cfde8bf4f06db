"""Score exported models, alone and as an ensemble, on a training run's dev split: the numbers behind a choice.

The dev split is the run's own (``config.json``: data, dev fraction, seed), so models trained with that seed
never saw it. PublicTest stays untouched: choices such as which teacher to distil from are made here.

    python -m training.dev_check --run-dir training/checkpoints/emonet-v4 \\
        training/teachers/emonet-v2.int8.onnx training/teachers/emonet-v3.int8.onnx

With two or more models it also compares each one to the first on the same faces: the difference in accuracy
with a 95% interval for it, and how many faces only one of the two gets right. The dev split's 2,879 faces give
a single accuracy near 70% a standard error of 0.85 points, but two models err on mostly the same faces, so the
paired difference is known far better than that; the interval says whether a gap is more than noise.
"""

from __future__ import annotations

import argparse
import math
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


@dataclass(frozen=True)
class PairedDifference:
    """A model against the first one on the same faces (no TTA)."""

    name: str
    difference: float  # its accuracy minus the first model's
    half_width: float  # of the difference's 95% interval (normal approximation of the mean of paired differences)
    only_this: int  # faces it gets right and the first model does not
    only_first: int  # faces the first model gets right and it does not


def paired_difference(name: str, first_correct: np.ndarray, other_correct: np.ndarray) -> PairedDifference:
    """``other`` against ``first`` from each face's right/wrong: the mean of the per-face differences and 1.96
    standard errors of that mean."""
    if first_correct.shape != other_correct.shape or first_correct.ndim != 1 or len(first_correct) < 2:
        raise ValueError(
            f"need two equal, 1-D right/wrong arrays of 2+ faces: {first_correct.shape}, {other_correct.shape}"
        )
    per_face = other_correct.astype(np.float64) - first_correct.astype(np.float64)
    return PairedDifference(
        name=name,
        difference=float(per_face.mean()),
        half_width=1.96 * float(per_face.std(ddof=1)) / math.sqrt(len(per_face)),
        only_this=int(np.sum(per_face > 0)),
        only_first=int(np.sum(per_face < 0)),
    )


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
    """Each model alone, then (for two or more) their ensemble: the mean of their probabilities."""
    return evaluate(models, split, threads)[0]


def evaluate(models: list[Path], split: FerSplit, threads: int = 0) -> tuple[list[DevScore], list[PairedDifference]]:
    """:func:`score`'s rows, and each model after the first compared to the first on the same faces.

    Scored through the runtime's path (``OnnxEmotionClassifier``, as ``emostream eval-model``); each model
    runs once on the faces and once on their mirrors, and the flip-averaged and ensemble scores reuse those.
    """
    plain, mirrored = [], []
    for path in models:
        classifier = OnnxEmotionClassifier(path, providers=("CPUExecutionProvider",), intra_op_threads=threads)
        plain.append(predict(classifier, split.images, tta=False))
        mirrored.append(predict(classifier, split.images[:, :, ::-1], tta=False))
    labels = model_labels(models)
    correct = [probabilities.argmax(axis=1) == split.labels for probabilities in plain]
    pairs = [paired_difference(labels[i], correct[0], correct[i]) for i in range(1, len(models))]
    groups = [[index] for index in range(len(models))] + ([list(range(len(models)))] if len(models) > 1 else [])
    scores = [
        DevScore(
            " + ".join(labels[index] for index in group),
            mean_accuracy([plain[index] for index in group], split.labels),
            mean_accuracy([plain[index] for index in group] + [mirrored[index] for index in group], split.labels),
        )
        for group in groups
    ]
    return scores, pairs


def format_pairs(pairs: list[PairedDifference], first: str) -> str:
    """Each model against the first: difference, its 95% interval, and the faces only one of the two gets right."""
    width = max(len(p.name) for p in pairs)
    lines = [f"against {first}, on the same faces (no TTA):",
             f"{'model':<{width}}  difference  95% interval     only it right  only {first} right"]  # fmt: skip
    for p in pairs:
        low, high = p.difference - p.half_width, p.difference + p.half_width
        lines.append(f"{p.name:<{width}}  {p.difference * 100:+9.2f}  [{low * 100:+.2f}, {high * 100:+.2f}]"
                     f"  {p.only_this:13d}  {p.only_first:d}")  # fmt: skip
    return "\n".join(lines)


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
    scores, pairs = evaluate(args.models, split, args.threads)
    print(format_table(scores, len(split)))
    if pairs:
        print(format_pairs(pairs, scores[0].name))


if __name__ == "__main__":
    main()
