"""The training code on Keras's torch backend (what a lent GPU runs: PyTorch there, no TensorFlow), and the hand-over
to this machine's TensorFlow path: a run trained on torch resumes on TensorFlow from its ``resume.npz`` alone, and
its checkpoint exports to ONNX through the tested path; a weight average (``--average-from``) goes on across it.

Needs PyTorch in the venv (``make setup`` installs the CPU build, the ``torch`` extra); skipped without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("tf2onnx")

from tests.integration.test_evaluate_smoke import make_data
from training.export import export
from training.train import TrainConfig, train
from training.weight_average import read_average


def train_on_torch(data: Path, run_dir: Path, epochs: int, stop_after: int, average_from: int = 0) -> None:
    """``training.train`` in a subprocess on ``KERAS_BACKEND=torch``; the run's schedule is ``epochs`` long but
    the process trains only ``stop_after`` of them (as a session that ends mid-run)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from training.train import TrainConfig, train\n"
        "import keras\n"
        "assert keras.backend.backend() == 'torch', keras.backend.backend()\n"
        f"config = TrainConfig(data={str(data)!r}, arch='emonet_small', epochs={epochs}, warmup_epochs=0, "
        f"batch_size=64, average_from={average_from})\n"
        f"train(config, Path({str(run_dir)!r}), resume=False, stop_after={stop_after})\n"
    )
    env = os.environ | {"KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_run_trained_on_torch_resumes_on_tensorflow_and_exports(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    run_dir = tmp_path / "run"
    train_on_torch(data, run_dir, epochs=3, stop_after=2, average_from=1)  # epoch 2's weights go into the average
    timing = [json.loads(line) for line in (run_dir / "timing.jsonl").read_text().splitlines()]
    assert [(t["epoch"], t["backend"]) for t in timing] == [(1, "torch"), (2, "torch")]
    assert read_average(run_dir / "average.npz")[:2] == (1, 2)

    for keras_file in run_dir.glob("*.keras"):  # only what a session commits: resume.npz and the logs
        keras_file.unlink()
    train(TrainConfig(data=str(data)), run_dir, resume=True)  # this process: TensorFlow; the run's own config
    timing = [json.loads(line) for line in (run_dir / "timing.jsonl").read_text().splitlines()]
    assert [(t["epoch"], t["backend"]) for t in timing] == [(1, "torch"), (2, "torch"), (3, "tensorflow")]
    assert read_average(run_dir / "average.npz")[:2] == (2, 3)  # the average went on across the hand-over

    checks = export(run_dir / "last.keras", "tiny", "1", tmp_path / "models", ("onnx",))
    assert (tmp_path / "models" / "tiny.onnx").is_file()
    assert checks["checks"][0]["argmax_agreement"] >= 0.999
