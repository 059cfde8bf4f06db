"""``training.evaluate`` end to end on a run this test makes itself: train 1 epoch, export ONNX, evaluate.

The data is a small synthetic FER2013-shaped npz (random faces, 5 PublicTest images copied from
Training, a FER+ vote file beside it), so the test runs anywhere in well under 90 s and knows the
answers it checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")
pytest.importorskip("tf2onnx")

import onnx

from training.evaluate import main as evaluate_main
from training.export import export, model_input, onnx_probabilities
from training.npz_store import main as npz_store_main
from training.npz_store import part_count, stored_sha256
from training.train import TrainConfig, prepare, train

TRAIN, VAL, DUPLICATES = 350, 70, 5
FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear")
FER_TO_FERPLUS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
FIGURES = ("confusion.png", "learning_curves.png", "reliability.png", "feature_maps.png", "gradcam.png")


def make_data(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(TRAIN, 48, 48), dtype=np.uint8)
    x_val = rng.integers(0, 256, size=(VAL, 48, 48), dtype=np.uint8)
    x_val[:DUPLICATES] = x_train[10 : 10 + DUPLICATES]
    y_train, y_val = np.arange(TRAIN) % 7, np.arange(VAL) % 7
    row_val = TRAIN + np.arange(VAL)
    row_val[-1] = -1  # one PublicTest image without a FER+ row
    path = folder / "fer.npz"
    np.savez(path, x_train=x_train, y_train=y_train, row_train=np.arange(TRAIN), x_val=x_val, y_val=y_val,
             row_val=row_val)  # fmt: skip
    lines = ["Usage,Image name," + ",".join(FERPLUS_COLUMNS) + ",contempt,unknown,NF"]
    for row, label in enumerate(np.concatenate([y_train, y_val])):
        votes = [10 if column == FER_TO_FERPLUS[label] else 0 for column in FERPLUS_COLUMNS]
        lines.append(f"Training,fer{row:07d}.png," + ",".join(map(str, votes)) + ",0,0,0")
    (folder / "ferplus_labels.csv").write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_end_to_end(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    run_dir, models = tmp_path / "runs" / "tiny", tmp_path / "models"
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=1, warmup_epochs=0, batch_size=64)
    train(config, run_dir, resume=False)
    export(run_dir / "best.keras", "tiny", "1", models, ("onnx",))
    baselines = tmp_path / "baselines.json"
    baselines.write_text(json.dumps([{"name": "shallow (ours)", "publictest_accuracy": 0.5, "command": "make x"}]))

    evaluate_main(["--run-dir", str(run_dir), "--model", str(models / "tiny.onnx"), "--data", str(data),
                   "--baselines", str(baselines), "--reports-dir", str(tmp_path / "reports")])  # fmt: skip

    report_dir = tmp_path / "reports" / "tiny"
    for name in FIGURES:
        assert (report_dir / name).read_bytes()[:4] == b"\x89PNG", name
    report = json.loads((report_dir / "metrics.json").read_text())
    for key in ("no_tta", "flip_tta"):
        assert report["publictest"][key]["count"] == VAL and 0.0 <= report["publictest"][key]["accuracy"] <= 1.0
        assert report["dev"][key]["count"] == report["data"]["splits"]["dev"] > 0
    assert report["data"]["splits"] == {"training": TRAIN, "train_part": TRAIN - report["data"]["splits"]["dev"],
                                        "dev": report["data"]["splits"]["dev"], "publictest": VAL}  # fmt: skip
    duplicates = report["duplicates"]
    assert duplicates["publictest_in_training"] == DUPLICATES and duplicates["dev_in_train_part"] == 0
    assert duplicates["no_tta"]["duplicate"]["count"] + duplicates["no_tta"]["non_duplicate"]["count"] == VAL
    assert report["ferplus"]["publictest_with_votes"] == VAL - 1 and report["ferplus"]["label_agreement"] == 1.0
    calibration = report["calibration"]["publictest"]
    assert calibration["before"]["nll"] > 0 and calibration["after"]["nll"] > 0
    assert report["architecture"]["flops"] == 2 * report["architecture"]["macs"] > 0
    assert report["checkpoint"]["is_exported_checkpoint"] is True
    assert [c["format"] for c in report["export"]["checks"]] == ["onnx"]

    card = (models / "tiny.md").read_text()
    assert "](../reports/tiny/gradcam.png)" in card and "](../reports/tiny/metrics.json)" in card
    assert f"{DUPLICATES} of {VAL} PublicTest images" in card
    assert "| shallow (ours) |" in card and "reported, not reproduced" in card
    assert f"{100 * report['publictest']['no_tta']['accuracy']:.1f}%" in card


def test_real_publictest_duplicates(fer_npz: Path) -> None:
    """On the shared FER2013 npz: 280 PublicTest images occur pixel for pixel in Training (its README)."""
    if not fer_npz.is_file():
        pytest.skip(f"{fer_npz} not found")
    from training.report.numbers import duplicate_mask

    with np.load(fer_npz) as archive:
        assert int(duplicate_mask(archive["x_val"], archive["x_train"]).sum()) == 280


def test_label_options_study(tmp_path: Path) -> None:
    """``training.options`` scores a FER2013-label run, a FER+ soft-label run and a 6-class run of one recipe."""
    from training.options import main as options_main

    data = make_data(tmp_path)
    base = TrainConfig(data=str(data), arch="emonet_small", epochs=1, warmup_epochs=0, batch_size=64)
    runs = {
        "control": base,
        "ferplus-soft": TrainConfig(**{**base.__dict__, "ferplus": str(tmp_path / "ferplus_labels.csv")}),
        "six": TrainConfig(**{**base.__dict__, "classes": 6}),
    }
    for name, config in runs.items():
        train(config, tmp_path / name, resume=False)
    out = tmp_path / "options.json"

    options_main([*(a for name in runs for a in ("--run", str(tmp_path / name))), "--data", str(data),
                  "--out", str(out)])  # fmt: skip

    rows = {row["name"]: row for row in json.loads(out.read_text())}
    assert [(rows[n]["labels"], rows[n]["classes"]) for n in runs] == [("FER2013", 7), ("FER+ soft", 7), ("FER2013", 6)]
    assert rows["six"]["six_class_accuracy"] == rows["six"]["publictest_accuracy"]
    assert rows["six"]["ferplus_majority"] is None
    for name in ("control", "ferplus-soft"):
        assert rows[name]["ferplus_majority"]["count"] == VAL - 1  # the row without a FER+ row is left out
        assert ("--ferplus" in rows[name]["command"]) == (name == "ferplus-soft")
        assert rows[name]["notes"] == "1 of 1 epochs, resume.npz"


def test_a_candidate_exported_from_a_split_checkpoint_is_checked_on_the_dev_split_only(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    run_dir = tmp_path / "runs" / "candidate"
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=1, warmup_epochs=0, batch_size=64)
    train(config, run_dir, resume=False)
    state = run_dir / "resume.npz"
    npz_store_main(["split", str(state), "--max-part-bytes", "2000000"])  # as a state over the repo's limit is kept
    assert part_count(state) > 1

    summary = export(state, "candidate", "0", tmp_path / "out", ("onnx",), check_split="dev")

    assert summary["check_split"] == "dev" and "keras_accuracy_publictest" not in summary
    _, dev, _, _ = prepare(config)
    onnx_path = tmp_path / "out" / "candidate.onnx"
    dev_accuracy = float((onnx_probabilities(onnx_path, model_input(dev.images)).argmax(1) == dev.labels).mean())
    assert summary["checks"][0]["accuracy"] == dev_accuracy
    metadata = json.loads((tmp_path / "out" / "candidate.export.json").read_text())
    assert metadata["checks"][0]["argmax_agreement"] >= 0.99
    properties = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert properties["checkpoint_sha256"] == stored_sha256(state) != stored_sha256(run_dir / "resume.1.npz")
