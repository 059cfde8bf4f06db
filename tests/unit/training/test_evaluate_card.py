"""The model card is rendered from the report dict alone; every number in it comes from that dict."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from training.report.card import LITERATURE, duration, render_card, si
from training.report.run_info import load_baselines, load_options, train_command
from training.train import TrainConfig


def test_card_sections_and_numbers(fake_report: dict[str, Any]) -> None:
    card = render_card(fake_report, "../reports/emonet")
    for heading in ("Intended use", "Classes and input", "Data", "Architecture and cost", "Training", "Results",
                    "Calibration", "Export checks", "Comparison", "Limits and known biases", "Figures"):  # fmt: skip
        assert f"## {heading}" in card
    assert "0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral" in card
    assert "T = 1.4321" in card
    assert "1,605,207 parameters" in card and "59,610,880 MACs = 119.22 MFLOPs" in card
    assert "| before (T = 1) | 0.081 | 1.012 |" in card and "| after (T = 1.4321) | 0.021 | 0.935 |" in card
    assert "2.00 h over 60 timed epochs" in card and "2-core CPU" in card
    assert "Disgust has 436 training images" in card
    assert "280 of 3,589 PublicTest images (7.8%)" in card and "on them: 90.0%" in card and ": 64.0%" in card
    assert "agrees with the FER+ majority on 63.8%" in card
    assert "| onnx-int8 | 1,686,804 | 97.00% |" in card
    assert "![Grad-CAM on the last conv stage](../reports/emonet/gradcam.png)" in card
    assert "learning_curves.png" not in card  # only the figures that were drawn are linked
    assert "[../reports/emonet/metrics.json](../reports/emonet/metrics.json)" in card


def test_comparison_table(fake_report: dict[str, Any]) -> None:
    card = render_card(fake_report, "r")
    rows = [line for line in card.splitlines() if line.startswith("| ")]
    accuracy = fake_report["publictest"]["no_tta"]["accuracy"]
    assert any(
        r.startswith("| **emonet** (this model) | 1.61 M | 119.22 M | " + f"{100 * accuracy:.1f}%") for r in rows
    )
    assert any(
        "shallow_cnn (ours)" in r and "60.1%" in r and "`python -m training.train --arch shallow_cnn`" in r
        for r in rows
    )
    for model, reported in LITERATURE:
        (row,) = [r for r in rows if r.startswith(f"| {model} |")]
        assert reported in row and "reported, not reproduced" in row


def test_card_without_optional_parts(fake_report: dict[str, Any]) -> None:
    fake_report |= {"export": None, "ferplus": None, "baselines": [], "notes": ["gradcam.png not drawn: torch"]}
    fake_report["checkpoint"]["is_exported_checkpoint"] = False
    fake_report["data"]["run_sha256"] = "00" * 32
    card = render_card(fake_report, "r")
    assert "not checked" in card and "not measured here" in card and "- gradcam.png not drawn: torch" in card
    assert "**not** the checkpoint this ONNX was exported from" in card
    assert "differs from the run's data" in card


def test_every_percentage_in_the_card_is_in_the_report_or_derived(fake_report: dict[str, Any]) -> None:
    """No hard-coded measurements: the percentages of the card change when the report's numbers do."""
    card = render_card(fake_report, "r")
    fake_report["publictest"]["no_tta"]["accuracy"] = 0.1234
    fake_report["duplicates"]["no_tta"]["duplicate"]["accuracy"] = 0.4321
    changed = render_card(fake_report, "r")
    assert "12.3%" in changed and "43.2%" in changed and card != changed
    assert not re.search(r"\b(62|65\.5|73\.3)%", card.split("## Comparison")[0])


@pytest.mark.parametrize(("value", "text"), [(None, "n/a"), (999, "999"), (1234, "1.23 k"), (119221760, "119.22 M")])
def test_si(value: float | None, text: str) -> None:
    assert si(value) == text


@pytest.mark.parametrize(("seconds", "text"), [(300, "5.0 min"), (7200, "2.00 h")])
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_baselines_file(tmp_path: Path) -> None:
    path = tmp_path / "baselines.json"
    path.write_text(json.dumps([{"name": "vgg", "publictest_accuracy": 0.6, "params": 10, "command": "make x"}]))
    (row,) = load_baselines(path)
    assert row["name"] == "vgg" and row["macro_f1"] is None and row["command"] == "make x"
    assert load_baselines(None) == []


@pytest.mark.parametrize(
    "content", ['{"name": "x"}', '[{"name": "x"}]', '[{"name": "x", "publictest_accuracy": 0.5, "typo": 1}]']
)
def test_bad_baselines(tmp_path: Path, content: str) -> None:
    path = tmp_path / "baselines.json"
    path.write_text(content)
    with pytest.raises((ValueError, ValidationError)):
        load_baselines(path)


def test_train_command_lists_the_options_that_differ() -> None:
    config = TrainConfig(data="d.npz", arch="emonet_small", epochs=1, warmup_epochs=0)
    command = train_command(config, Path("runs/x"))
    assert command == (
        "python -m training.train --data d.npz --run-dir runs/x --arch emonet_small --epochs 1 --warmup-epochs 0"
    )


def test_card_states_the_measured_int8_speed_up(fake_report: dict[str, Any]) -> None:
    fake_report["speed"] = {
        "batch": 64, "repeats": 30, "cores": 2, "cpu": "AMD EPYC (avx2 fma)",
        "crops_per_s": {"onnx": 2400.0, "onnx-int8": 7800.0},
        "ratio_to_first": {"onnx": 1.0, "onnx-int8": 3.25},
    }  # fmt: skip
    card = render_card(fake_report, "../reports/emonet")
    assert "onnx-int8 7,800 crops/s (3.25x)" in card and "batch 64, median of 30 calls" in card
    assert "ONNX Runtime, AMD EPYC (avx2 fma), 2 cores" in card


def _option(name: str, labels: str, classes: int, accuracy: float, six: float, ferplus: float | None) -> dict[str, Any]:
    return {
        "name": name, "arch": "shallow_cnn", "labels": labels, "classes": classes, "publictest_accuracy": accuracy,
        "macro_f1": 0.5, "six_class_accuracy": six,
        "ferplus_majority": None if ferplus is None else {"count": 3000, "accuracy": ferplus},
        "command": f"python -m training.train --run-dir {name}", "notes": "20 of 20 epochs, resume.npz",
    }  # fmt: skip


def test_label_options_table(fake_report: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    path.write_text(json.dumps([_option("control", "FER2013", 7, 0.601, 0.612, 0.55),
                                _option("six", "FER2013", 6, 0.623, 0.623, None)]))  # fmt: skip
    fake_report |= {"options": load_options(path), "six_class_accuracy": 0.6789}
    rows = [line for line in render_card(fake_report, "r").splitlines() if line.startswith("| ")]
    (ours,) = [r for r in rows if r.startswith("| **emonet** (this model) | FER2013 | 7 |")]
    assert "| 67.9% | 70.1% |" in ours  # its 6-class accuracy and its FER+ agreement, from the report
    (control,) = [r for r in rows if r.startswith("| control |")]
    assert "| 60.1% | 0.500 | 61.2% | 55.0% |" in control and "`python -m training.train --run-dir control`" in control
    (six,) = [r for r in rows if r.startswith("| six |")]
    assert "| 6 | 62.3% | 0.500 | 62.3% | n/a |" in six


def test_card_without_label_options(fake_report: dict[str, Any]) -> None:
    assert "## Label options" not in render_card(fake_report | {"options": []}, "r")
    assert load_options(None) == []


def test_bad_label_options(tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    path.write_text(json.dumps([_option("x", "FER2013", 7, 0.6, 0.6, None) | {"typo": 1}]))
    with pytest.raises(ValidationError):
        load_options(path)


def test_training_time_names_the_median_epoch_and_the_cpu_time(fake_report: dict[str, Any]) -> None:
    fake_report["run"]["time"] |= {"median_epoch_seconds": 84.6, "cpu": {"epochs": 12, "seconds": 1800.0}}
    card = render_card(fake_report, "r")
    assert "2.00 h over 60 timed epochs (sum of timing.jsonl) (median epoch 85 s; CPU time 30.0 min over the 12" in card


def test_a_weight_averaged_checkpoint_is_named_with_its_epochs_and_dev_scores(fake_report: dict[str, Any]) -> None:
    assert "mean of the weights" not in render_card(fake_report, "r")
    fake_report["weight_average"] = {
        "averaged_epochs": [151, 200],
        "recalibration_images": 25830,
        "dev_accuracy_last_epoch": 0.6912,
        "dev_accuracy_average": 0.7034,
        "choice": "average",
    }
    card = render_card(fake_report, "r")
    assert "mean of the weights after epochs 151-200" in card and "25,830 training images" in card
    assert "dev accuracy 70.3% against 69.1% for the last epoch alone (the dev split chose the average)" in card
    fake_report["weight_average"]["choice"] = "last"
    assert "**not** the dev split choice" in render_card(fake_report, "r")
