"""``training.arch_speed`` end to end: untrained layouts exported to int8 and timed through the runtime engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")
pytest.importorskip("tf2onnx")

from training.arch_speed import main


def test_each_layout_is_timed_and_compared_with_the_first(tmp_path: Path) -> None:
    data, out = tmp_path / "fer.npz", tmp_path / "arch_speed.json"
    np.savez(data, x_train=np.random.default_rng(0).integers(0, 256, size=(80, 48, 48), dtype=np.uint8))
    main(["--blocks", "1111", "1121", "--data", str(data), "--rounds", "2", "--repeats", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    wide, deeper = result["layouts"]["1111"], result["layouts"]["1121"]
    assert wide["mflops"] == pytest.approx(172.2, abs=0.1)  # emonet_wide's count in the model card
    assert deeper["mflops"] - wide["mflops"] == pytest.approx(2 * 2 * 9 * 192 * 192 * 6 * 6 / 1e6, abs=0.1)
    assert wide["ratio_to_first"] == 1.0
    assert all(len(row["crops_per_s_rounds"]) == 2 and row["crops_per_s_median"] > 0 for row in (wide, deeper))
    assert "--blocks 1111 1121" in result["command"]
