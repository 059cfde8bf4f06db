"""training.int8_calibration: int8 recipes scored against the float32 model on held-out dev faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.int8 import SHIPPED, recipe_named
from training.int8_calibration import RecipeScore, compare, format_table

MODEL = Path(__file__).resolve().parents[3] / "models" / "emonet.onnx"


def test_each_recipe_is_scored_on_the_faces_after_the_calibration_ones() -> None:
    pytest.importorskip("onnxruntime")
    images = np.random.default_rng(11).integers(0, 256, size=(96, 48, 48), dtype=np.uint8)
    labels = np.arange(96) % 7
    scores = compare(MODEL, images, labels, (recipe_named("u8-minmax"), SHIPPED), calibration=32, speed_repeats=2)
    assert [s.recipe for s in scores] == ["float32", "u8-minmax", SHIPPED.name]
    reference = scores[0]
    assert (reference.agreement, reference.max_abs_prob_diff) == (1.0, 0.0)
    assert all(s.crops_per_s is not None and s.crops_per_s > 0 for s in scores)
    assert all(s.max_abs_prob_diff > 0 for s in scores[1:])  # int8 changes the probabilities, if only a little


def test_a_calibration_set_that_leaves_nothing_to_score_is_refused() -> None:
    images = np.zeros((10, 48, 48), np.uint8)
    with pytest.raises(ValueError, match=r"--calibration 10: needs 1\.\.9 of the 10 dev faces"):
        compare(MODEL, images, np.zeros(10, int), calibration=10)


def test_the_table_shows_a_dash_where_speed_was_not_measured() -> None:
    table = format_table([RecipeScore("float32", 0.7, 1.0, 0.0, 600.0), RecipeScore("u8-minmax", 0.65, 0.9, 0.2)], 1855)
    lines = table.splitlines()
    assert lines[0].startswith("scored on 1855 dev faces") and SHIPPED.name in lines[0]
    assert lines[2].endswith("600") and lines[3].endswith("-")
    assert "65.00%" in lines[3] and "90.00%" in lines[3]
