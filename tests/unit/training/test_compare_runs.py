"""``training.compare_runs``: window means of dev accuracy, and runs on different dev splits refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.compare_runs import epoch_seconds, format_times, main, parse_epoch_range, window_means


def _run(path: Path, val_accs: list[float], seed: int = 1234, train_acc: float = 0.5) -> Path:
    path.mkdir()
    rows = ["epoch,acc,loss,val_acc,val_loss", *(f"{i},{train_acc},1.0,{acc},1.1" for i, acc in enumerate(val_accs))]
    (path / "history.csv").write_text("\n".join(rows) + "\n")
    config = {"data_sha256": "ab", "dev_fraction": 0.1, "seed": seed, "classes": 7}
    (path / "config.json").write_text(json.dumps(config))
    return path


def test_windows_cover_only_the_epochs_every_run_has_finished() -> None:
    rows = window_means([[0.1, 0.3, 0.5, 0.7, 0.9], [0.2, 0.2, 0.6]], window=2)
    assert [(first, last) for first, last, _ in rows] == [(1, 2)]
    assert rows[0][2] == pytest.approx([0.2, 0.2])


def test_the_table_gives_each_run_and_its_difference_from_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _run(tmp_path / "a", [0.60, 0.62, 0.64, 0.66])
    b = _run(tmp_path / "b", [0.61, 0.63, 0.66, 0.68, 0.70])
    main([str(a), str(b), "--window", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "epochs | a | b | b - a"
    assert lines[2:4] == ["1-2 | 61.00% | 62.00% | +1.00", "3-4 | 65.00% | 67.00% | +2.00"]
    assert lines[4:] == [
        "",
        "run | backend | precision | epochs | median s | range s | hours",
        "--- | --- | --- | --- | --- | --- | ---",
    ]


def test_metric_acc_compares_training_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _run(tmp_path / "a", [0.60, 0.62], train_acc=0.70)
    b = _run(tmp_path / "b", [0.58, 0.60], train_acc=0.66)
    main([str(a), str(b), "--window", "2", "--metric", "acc"])
    assert capsys.readouterr().out.splitlines()[2] == "1-2 | 70.00% | 66.00% | -4.00"


def test_runs_on_different_dev_splits_are_refused(tmp_path: Path) -> None:
    a, b = _run(tmp_path / "a", [0.6]), _run(tmp_path / "b", [0.6], seed=7)
    with pytest.raises(SystemExit):
        main([str(a), str(b)])


def test_epoch_seconds_are_grouped_and_summed_up_by_backend_and_precision(tmp_path: Path) -> None:
    run = _run(tmp_path / "r", [0.5])
    entries = [("tensorflow", "float32", 600.0), ("torch", "float32", 300.0), ("torch", "float32", 200.0),
               ("torch", "float32", 250.0), ("tensorflow", "mixed_bfloat16", 130.0)]  # fmt: skip
    lines = [
        json.dumps({"epoch": i + 1, "seconds": s, "backend": b, "precision": p}) for i, (b, p, s) in enumerate(entries)
    ]
    (run / "timing.jsonl").write_text("\n".join(lines) + "\n")
    assert epoch_seconds(run) == {
        ("tensorflow", "float32"): [600.0],
        ("torch", "float32"): [300.0, 200.0, 250.0],
        ("tensorflow", "mixed_bfloat16"): [130.0],
    }
    assert format_times([run]).splitlines()[2:] == [
        "r | tensorflow | float32 | 1 | 600 | 600-600 | 0.2",
        "r | torch | float32 | 3 | 250 | 200-300 | 0.2",
        "r | tensorflow | mixed_bfloat16 | 1 | 130 | 130-130 | 0.0",
        "r | all | all | 5 | 250 | 130-600 | 0.4",
    ]
    assert epoch_seconds(tmp_path) == {}  # no timing.jsonl
    one_way = _run(tmp_path / "one", [0.5])
    (one_way / "timing.jsonl").write_text(json.dumps({"epoch": 1, "seconds": 90.0, "backend": "torch"}) + "\n")
    assert format_times([one_way]).splitlines()[2:] == ["one | torch | unknown | 1 | 90 | 90-90 | 0.0"]


def test_timing_epochs_limit_the_table_to_one_stretch_of_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "r", [0.5])
    seconds = [500.0, 480.0, 900.0, 520.0, 510.0]
    lines = [json.dumps({"epoch": i + 1, "seconds": s, "backend": "torch", "precision": "float32"}) for i, s in
             enumerate(seconds)]  # fmt: skip
    (run / "timing.jsonl").write_text("\n".join(lines) + "\n")
    assert epoch_seconds(run, (2, 4)) == {("torch", "float32"): [480.0, 900.0, 520.0]}
    main([str(run), "--window", "1", "--timing-epochs", "4-5"])
    assert capsys.readouterr().out.splitlines()[-1] == "r | torch | float32 | 2 | 515 | 510-520 | 0.3"


@pytest.mark.parametrize(("text", "expected"), [("25-51", (25, 51)), ("7", (7, 7)), ("3-3", (3, 3))])
def test_epoch_ranges_parse(text: str, expected: tuple[int, int]) -> None:
    assert parse_epoch_range(text) == expected


@pytest.mark.parametrize("text", ["51-25", "0-3", "a-b", "3-", "-4", "1-2-3"])
def test_malformed_epoch_ranges_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match="epoch range"):
        parse_epoch_range(text)
    with pytest.raises(SystemExit):
        main([str(_run(tmp_path / "r", [0.5])), "--timing-epochs", text])
