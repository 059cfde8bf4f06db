"""Evaluate an exported model: report (numbers + figures) and the model card, all from one command.

    python -m training.evaluate --run-dir runs/emonet-v1 --model models/emonet.onnx \\
        --data ../shared/data/fer2013/fer2013_train_val.npz [--name emonet] [--baselines baselines.json]

Writes ``reports/<name>/`` (``metrics.json``, ``confusion.png``, ``learning_curves.png``,
``reliability.png``, ``feature_maps.png``, ``gradcam.png``) and the card ``<model dir>/<name>.md``.

Scores come from the runtime path (``OnnxEmotionClassifier``, what the product runs) on FER2013
PublicTest, with and without horizontal-flip TTA, and on the run's dev split. Figures that look
inside the network (feature maps, Grad-CAM) use the run's Keras checkpoint (default ``best.keras``).
``--baselines`` takes a JSON list of ``{name, publictest_accuracy, macro_f1, params, flops, source,
command, notes}`` rows for the comparison table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from emostream.classifier.engine import OnnxEmotionClassifier
from emostream.classifier.scoring import reliability_bins, score
from emostream.commands.eval_model import predict
from emostream.core.labels import EMOTIONS
from training.checkpoint import default_checkpoint
from training.data import (
    SPLIT_TRAIN,
    SPLIT_VAL,
    FerData,
    FerSplit,
    array_sha256,
    file_sha256,
    load_fer2013,
    to_six_classes,
)
from training.npz_store import stored_sha256
from training.report import figures
from training.report.card import render_card
from training.report.network import inspect_checkpoint
from training.report.numbers import (
    duplicate_mask,
    ferplus_agreement,
    masked_accuracy,
    negative_log_likelihood,
    read_history,
    six_class_accuracy,
    training_time,
    untemper,
)
from training.report.run_info import load_baselines, load_options, load_run_config, train_command
from training.report.speed import model_speeds
from training.run_files import TIMING_LOG
from training.train import TrainConfig, prepare
from training.weight_average import averaged_summary

log = logging.getLogger("training.evaluate")
BINS = 15
TTA_MODES = (("no_tta", False), ("flip_tta", True))


def onnx_metadata(path: Path) -> dict[str, str]:
    import onnx

    return {entry.key: entry.value for entry in onnx.load(str(path), load_external_data=False).metadata_props}


def score_modes(classifier: OnnxEmotionClassifier, split: FerSplit) -> dict[str, tuple[np.ndarray, Any]]:
    """Runtime probabilities and their scores, without TTA and with horizontal-flip TTA."""
    out = {}
    for key, tta in TTA_MODES:
        probabilities = predict(classifier, split.images, tta)
        out[key] = (probabilities, score(probabilities, split.labels))
    return out


def data_section(data: FerData, train_part: int, dev: int, config: TrainConfig) -> dict[str, Any]:
    """Where the data came from (file and array hashes), split sizes and class counts."""
    train, val = data.split(SPLIT_TRAIN), data.split(SPLIT_VAL)
    counts = {
        split: dict(zip(EMOTIONS, np.bincount(part.labels, minlength=7).tolist(), strict=True))
        for split, part in (("training", train), ("publictest", val))
    }
    return {
        "path": data.source,
        "sha256": data.sha256,
        "arrays_sha256": {
            "x_train": array_sha256(train.images),
            "y_train": array_sha256(train.labels),
            "x_val": array_sha256(val.images),
            "y_val": array_sha256(val.labels),
        },
        "splits": {"training": len(train), "train_part": train_part, "dev": dev, "publictest": len(val)},
        "class_counts": counts,
        "dev_method": f"{config.dev_fraction:.0%} of Training, stratified by class, grouped by duplicate images: "
        "all copies of an image on one side",
        "max_train_samples": config.max_train_samples,
        "rows_unknown": {"training": int((train.rows < 0).sum()), "publictest": int((val.rows < 0).sum())},
    }


def calibration_section(probs: np.ndarray, labels: np.ndarray, temperature: float, png: Path) -> dict[str, Any]:
    """ECE and NLL before (T=1) and after temperature scaling, and their reliability diagram."""
    before = untemper(probs, temperature)
    numbers = {
        key: {"ece": round(score(p, labels).ece, 4), "nll": round(negative_log_likelihood(p, labels), 4)}
        for key, p in (("before", before), ("after", probs))
    }
    figures.reliability_png(
        [
            ("before temperature scaling (T=1)", *reliability_bins(before, labels, BINS), numbers["before"]["ece"]),
            (f"after (T={temperature:.3f})", *reliability_bins(probs, labels, BINS), numbers["after"]["ece"]),
        ],
        png,
    )
    return {
        "temperature": temperature,
        "fitted_on": "dev split (training/export.py, NLL minimised)",
        "bins": BINS,
        "publictest": numbers,
        "method": "the T=1 probabilities are the ONNX ones un-tempered (p**T renormalised = softmax of the logits)",
    }


def duplicates_section(
    val: FerSplit, train: FerSplit, dev: FerSplit, train_part: FerSplit, public: dict[str, Any]
) -> dict[str, Any]:
    """Accuracy on the PublicTest images that occur pixel for pixel in Training vs the rest."""
    duplicated = duplicate_mask(val.images, train.images)
    section: dict[str, Any] = {
        "publictest_in_training": int(duplicated.sum()),
        "publictest": len(val),
        "dev_in_train_part": int(duplicate_mask(dev.images, train_part.images).sum()),
    }
    for key, (probs, _) in public.items():
        section[key] = {
            "duplicate": masked_accuracy(probs, val.labels, duplicated),
            "non_duplicate": masked_accuracy(probs, val.labels, ~duplicated),
        }
    return section


def ferplus_section(path: Path, val: FerSplit, probs: np.ndarray) -> dict[str, Any] | None:
    """FER2013 label vs FER+ majority on PublicTest, and the model (no TTA) vs the FER+ majority."""
    if not path.is_file():
        return None
    from training.ferplus import load_votes

    agreement = ferplus_agreement(probs, val.labels, val.rows, load_votes(path))
    if agreement is None:
        return None
    return {
        "path": str(path),
        "publictest_with_votes": agreement["count"],
        "label_agreement": round(agreement["label_agreement"], 4),
        "model_accuracy_vs_majority": round(agreement["accuracy"], 4),
    }


def run_section(
    args: argparse.Namespace, config: TrainConfig, raw: dict[str, Any], history: dict[str, list[float]]
) -> dict[str, Any]:
    """How the run was trained: command, epochs, best dev epoch, time."""
    best = int(np.argmax(history["val_acc"])) if history.get("val_acc") else None
    return {
        "dir": str(args.run_dir),
        "config": raw,
        "command": train_command(config, args.run_dir),
        "epochs_in_history": len(history.get("epoch", [])),
        "best_dev_epoch": None if best is None else best + 1,
        "best_dev_acc": None if best is None else round(history["val_acc"][best], 4),
        "last_dev_acc": round(history["val_acc"][-1], 4) if history.get("val_acc") else None,
        "time": training_time(args.run_dir / TIMING_LOG),
        "machine": args.train_machine,
    }


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Write ``<reports-dir>/<name>/`` and the model card; returns the report (= metrics.json)."""
    name = args.name or args.model.stem
    out_dir = args.reports_dir / name
    out_dir.mkdir(parents=True, exist_ok=True)
    config, raw_config = load_run_config(args.run_dir)
    data = load_fer2013(args.data)
    train, val = data.split(SPLIT_TRAIN), data.split(SPLIT_VAL)
    if config.classes == 6:
        train, val = to_six_classes(train), to_six_classes(val)
    train_part, dev, _, _ = prepare(replace(config, data=str(args.data)))
    classifier = OnnxEmotionClassifier(args.model, providers=("CPUExecutionProvider",))
    info = classifier.info

    log.info("scoring model=%s publictest=%d dev=%d", args.model, len(val), len(dev))
    public, dev_scored = score_modes(classifier, val), score_modes(classifier, dev)
    probs = public["no_tta"][0]
    figures.confusion_png(
        public["no_tta"][1].confusion, info.classes, "PublicTest, no TTA (runtime ONNX path)", out_dir / "confusion.png"
    )
    made = {"confusion": "confusion.png", "reliability": "reliability.png"}
    calibration = calibration_section(probs, val.labels, info.temperature, out_dir / "reliability.png")
    history = read_history(args.run_dir / "history.csv")
    run = run_section(args, config, raw_config, history)
    if history:
        made["learning_curves"] = figures.learning_curves_png(history, out_dir / "learning_curves.png").name

    checkpoint = args.checkpoint or default_checkpoint(args.run_dir)
    log.info("inspecting checkpoint=%s", checkpoint)
    architecture, drawn, notes = inspect_checkpoint(checkpoint, val.images, val.labels, info.classes,
                                                    info.temperature, out_dir)  # fmt: skip
    made |= drawn
    checkpoint_sha = stored_sha256(checkpoint)
    exported_from = onnx_metadata(args.model).get("checkpoint_sha256")
    ferplus_path = args.ferplus or (Path(config.ferplus) if config.ferplus else args.data.parent / "ferplus_labels.csv")
    export_json = args.model.with_name(f"{args.model.stem}.export.json")
    report: dict[str, Any] = {
        "name": name,
        "command": command_line(args),
        "model": {
            "path": str(args.model),
            "bytes": args.model.stat().st_size,
            "sha256": file_sha256(args.model),
            "version": info.version,
            "temperature": info.temperature,
            "classes": list(info.classes),
            "input_size": info.input_size,
        },
        "checkpoint": {
            "path": str(checkpoint),
            "sha256": checkpoint_sha,
            "is_exported_checkpoint": None if exported_from is None else exported_from == checkpoint_sha,
        },
        "architecture": architecture,
        "run": run,
        "weight_average": averaged_summary(checkpoint),
        "data": data_section(data, len(train_part), len(dev), config) | {"run_sha256": raw_config.get("data_sha256")},
        "publictest": {key: scores.as_dict(info.classes) for key, (_, scores) in public.items()},
        "dev": {key: scores.as_dict(info.classes) for key, (_, scores) in dev_scored.items()},
        "calibration": calibration,
        "duplicates": duplicates_section(val, train, dev, train_part, public),
        "ferplus": ferplus_section(ferplus_path, val, probs) if config.classes == 7 else None,
        "export": json.loads(export_json.read_text()) if export_json.is_file() else None,
        "baselines": load_baselines(args.baselines),
        "options": load_options(args.options),
        "six_class_accuracy": six_class_accuracy(probs, val.labels) if probs.shape[1] == 7 else None,
        "speed": model_speeds(
            {"onnx": args.model, "onnx-int8": args.model.with_name(f"{args.model.stem}.int8.onnx")}, val.images
        ),
        "figures": made,
        "notes": notes,
    }
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    card = args.card or args.model.with_name(f"{name}.md")
    card.write_text(render_card(report, Path(os.path.relpath(out_dir, card.parent)).as_posix()))
    log.info("wrote report=%s card=%s", out_dir, card)
    return report


def command_line(args: argparse.Namespace) -> str:
    """The command that produced the report, for the card (paths as given)."""
    parts = ["python", "-m", "training.evaluate", "--run-dir", str(args.run_dir), "--model", str(args.model)]
    parts += ["--data", str(args.data)]
    for flag in ("name", "baselines", "options", "checkpoint", "ferplus"):
        if getattr(args, flag):
            parts += [f"--{flag}", str(getattr(args, flag))]
    return shlex.join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="training run (config.json, history.csv, *.keras)")
    parser.add_argument("--model", type=Path, required=True, help="exported ONNX model (its metadata carries T)")
    parser.add_argument("--data", type=Path, required=True, help="FER2013 npz / csv / folder (PublicTest = x_val)")
    parser.add_argument("--name", default="", help="report and card name (default: the ONNX file's stem)")
    parser.add_argument("--baselines", type=Path, default=None, help="JSON list of baselines for the comparison")
    parser.add_argument("--options", type=Path, default=None, help="JSON list of label options (training.options)")
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="Keras checkpoint (default: RUN/best.keras, else resume.npz)"
    )
    parser.add_argument(
        "--ferplus", type=Path, default=None, help="FER+ label CSV (default: ferplus_labels.csv by --data)"
    )
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"), help="reports root (default: reports)")
    parser.add_argument("--card", type=Path, default=None, help="model card path (default: <model dir>/<name>.md)")
    parser.add_argument("--train-machine", default="2-core CPU", help="where the run was trained, for the card")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    report = evaluate(parse_args(argv))
    public = report["publictest"]
    log.info(
        "name=%s publictest_acc=%.4f publictest_acc_flip_tta=%.4f macro_f1=%.4f",
        report["name"], public["no_tta"]["accuracy"], public["flip_tta"]["accuracy"], public["no_tta"]["macro_f1"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
