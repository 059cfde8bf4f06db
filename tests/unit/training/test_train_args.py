"""``python -m training.train``'s arguments: the run's config apart from the options of one call."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.train import parse_args


def test_a_calls_options_are_trains_keywords_and_the_rest_is_the_runs_config() -> None:
    config, run_dir, resume, options = parse_args(
        ["--run-dir", "runs/x", "--average-from", "150", "--stop-after", "3", "--teacher-threads", "1"]
    )
    assert (run_dir, resume, config.average_from) == (Path("runs/x"), True, 150)
    assert options == {"stop_after": 3, "workers": 1, "precision": None, "teacher_threads": 1}


@pytest.mark.parametrize(
    "argv",
    [
        ["--stop-after", "0"],
        ["--workers", "0"],
        ["--teacher-threads", "-1"],
        ["--teacher-views", "4"],  # no teacher to ask
        ["--teacher", "t.onnx", "--teacher-views", "-1"],
    ],
)
def test_impossible_call_options_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "must be" in capsys.readouterr().err
