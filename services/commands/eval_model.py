"""``emostream eval-model``: score the shipped classifier on 48x48 face crops, through the exact
runtime path (preprocessing + ONNX Runtime). On FER2013's ``x_val``/``y_val`` this is the
PublicTest score."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from emostream.classifier.engine import DEFAULT_MODEL, OnnxEmotionClassifier
from emostream.classifier.scoring import Scores, score
from emostream.commands.common import fail
from emostream.core.errors import EmostreamError

BATCH = 256


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval-model", help="accuracy of the emotion model on labelled crops",
                                   description=__doc__)  # fmt: skip
    parser.add_argument("--npz", type=Path, required=True, help=".npz holding crops and labels")
    parser.add_argument("--images", default="x_val", help="key of the (N, 48, 48) uint8 crops")
    parser.add_argument("--labels", default="y_val", help="key of the (N,) integer labels")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--tta", action="store_true", help="average with the horizontally flipped crops")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.set_defaults(handler=run)


def predict(classifier: OnnxEmotionClassifier, crops: np.ndarray, tta: bool) -> np.ndarray:
    outputs = []
    for start in range(0, len(crops), BATCH):
        batch = np.ascontiguousarray(crops[start : start + BATCH])
        probs = classifier.classify(batch)
        if tta:
            probs = (probs + classifier.classify(np.ascontiguousarray(batch[:, :, ::-1]))) / 2
        outputs.append(probs)
    return np.concatenate(outputs) if outputs else np.zeros((0, len(classifier.info.classes)), np.float32)


def load_crops(path: Path, images_key: str, labels_key: str) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise EmostreamError(f"{path}: no such file")
    with np.load(path) as archive:
        missing = [key for key in (images_key, labels_key) if key not in archive]
        if missing:
            raise EmostreamError(f"{path}: no array named {', '.join(missing)} (has {', '.join(archive.files)})")
        return archive[images_key], archive[labels_key].astype(np.int64)


def format_table(scores: Scores, classes: tuple[str, ...]) -> str:
    lines = [f"samples {scores.count}  accuracy {scores.accuracy:.4f}  macro-F1 {scores.macro_f1:.4f}  "
             f"ECE {scores.ece:.4f}", "", f"{'class':>9} {'precision':>9} {'recall':>7} {'f1':>6}"]  # fmt: skip
    for name, p, r, f in zip(classes, scores.precision, scores.recall, scores.f1, strict=True):
        lines.append(f"{name:>9} {p:9.3f} {r:7.3f} {f:6.3f}")
    lines += ["", "confusion (rows: true, columns: predicted)", " " * 10 + " ".join(f"{c[:5]:>5}" for c in classes)]
    for name, row in zip(classes, scores.confusion, strict=True):
        lines.append(f"{name:>9} " + " ".join(f"{v:5d}" for v in row))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        crops, labels = load_crops(args.npz, args.images, args.labels)
        classifier = OnnxEmotionClassifier(args.model)
        probabilities = predict(classifier, crops.astype(np.uint8), args.tta)
    except (EmostreamError, ValueError) as error:
        return fail(str(error))
    classes = classifier.info.classes
    scores = score(probabilities, labels)
    if args.json:
        info = classifier.info.as_dict() | {"tta": args.tta, "npz": str(args.npz)}
        print(json.dumps({"model": info, "scores": scores.as_dict(classes)}, indent=2))
    else:
        print(f"model {classifier.info.name} v{classifier.info.version}  tta={'flip' if args.tta else 'off'}")
        print(format_table(scores, classes))
    return 0
