"""``training.train`` resumes from the committed ``resume.npz`` alone, with the run's own settings."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

from training.checkpoint import default_checkpoint, load_checkpoint
from training.models import build
from training.npz_store import stored_sha256
from training.resume_state import init_weights
from training.train import TrainConfig, prepare, saved_precision, train


def test_resume_from_resume_npz_keeps_the_runs_architecture_and_schedule(tmp_path: Path, tiny_fer: Path) -> None:
    data, run = tiny_fer, tmp_path / "run"
    first = TrainConfig(data=str(data), arch="emonet_small", epochs=1, warmup_epochs=0, batch_size=32)
    train(first, run, resume=True)
    # as in a clean checkout: the .keras files are not committed, resume.npz is; the run was planned longer
    for name in ("last.keras", "best.keras"):
        (run / name).unlink()
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(config | {"epochs": 2}))

    train(TrainConfig(data=str(data)), run, resume=True)  # the defaults name another arch and schedule

    assert json.loads((run / "config.json").read_text())["arch"] == "emonet_small"
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 2  # header, epoch 1, epoch 2
    (run / "best.keras").unlink()
    assert default_checkpoint(run) == run / "resume.npz"
    assert load_checkpoint(run / "resume.npz").name == "emonet"  # rebuilt from config.json, weights loaded


def test_a_run_whose_weights_are_gone_starts_over_with_fresh_logs(tmp_path: Path, tiny_fer: Path) -> None:
    data, run = tiny_fer, tmp_path / "run"
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=2, warmup_epochs=0, batch_size=32)
    train(config, run, resume=True)
    # as a run folder whose weights were lost (never committed, or deleted): its logs only
    for name in ("last.keras", "best.keras", "resume.npz"):
        (run / name).unlink()

    train(replace(config, epochs=1), run, resume=True)

    assert len((run / "history.csv").read_text().splitlines()) == 1 + 1
    assert [json.loads(line)["epoch"] for line in (run / "timing.jsonl").read_text().splitlines()] == [1]


def test_stop_after_splits_a_run_and_workers_change_no_batch(tmp_path: Path, tiny_fer: Path) -> None:
    """``stop_after=1`` ends the call after one epoch of the run's two; the resumed second epoch trains the same
    network whether its batches were prepared by one thread or two (they depend on seed, epoch and index only)."""
    data = tiny_fer
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=2, warmup_epochs=0, batch_size=32)
    train(config, tmp_path / "one", resume=False, stop_after=1)
    assert len((tmp_path / "one" / "history.csv").read_text().splitlines()) == 1 + 1  # header, epoch 1
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    for name, workers in (("one", 1), ("two", 2)):
        train(config, tmp_path / name, resume=True, stop_after=1, workers=workers)
        assert len((tmp_path / name / "history.csv").read_text().splitlines()) == 1 + 2

    one, two = (np.load(tmp_path / name / "resume.npz") for name in ("one", "two"))
    assert sorted(one.files) == sorted(two.files)
    for key in one.files:
        np.testing.assert_allclose(one[key], two[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_a_resumed_call_may_run_at_another_precision_and_the_run_keeps_its_own(tmp_path: Path, tiny_fer: Path) -> None:
    data, run = tiny_fer, tmp_path / "run"
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=2, warmup_epochs=0, batch_size=32)
    train(config, run, resume=False, stop_after=1)
    train(config, run, resume=True, precision="mixed_bfloat16")  # last.keras is float32: rebuilt from resume.npz

    epochs = [json.loads(line) for line in (run / "timing.jsonl").read_text().splitlines()]
    assert [epoch["precision"] for epoch in epochs] == ["float32", "mixed_bfloat16"]
    assert json.loads((run / "config.json").read_text())["precision"] == "float32"
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 2
    assert load_checkpoint(run / "resume.npz").name == "emonet"


def test_a_float32_call_after_a_bfloat16_one_trains_in_float32(tmp_path: Path, tiny_fer: Path) -> None:
    """``last.keras`` keeps the policy its layers ran: a call at another policy resumes from ``resume.npz``."""
    data, run = tiny_fer, tmp_path / "run"
    config = TrainConfig(data=str(data), arch="emonet_small", epochs=3, warmup_epochs=0, batch_size=32)
    train(config, run, resume=False, stop_after=1)
    assert saved_precision(run / "last.keras") == "float32"
    train(config, run, resume=True, stop_after=1, precision="mixed_bfloat16")
    assert saved_precision(run / "last.keras") == "mixed_bfloat16"
    train(config, run, resume=True)  # the run's own float32 again

    epochs = [json.loads(line) for line in (run / "timing.jsonl").read_text().splitlines()]
    assert [epoch["precision"] for epoch in epochs] == ["float32", "mixed_bfloat16", "float32"]
    assert saved_precision(tiny_fer) is None  # not a .keras archive


def test_a_new_run_may_start_from_another_runs_weights_and_records_them(tmp_path: Path, tiny_fer: Path) -> None:
    base = TrainConfig(data=str(tiny_fer), arch="emonet_small", epochs=1, warmup_epochs=0, batch_size=32)
    train(base, tmp_path / "first", resume=False)
    start = tmp_path / "first" / "resume.npz"
    # a learning rate of 0 leaves the trainable weights where the run started (batch-norm statistics still move)
    train(replace(base, lr=0.0, init_from=str(start)), tmp_path / "tuned", resume=False)

    first, tuned = load_checkpoint(start), load_checkpoint(tmp_path / "tuned" / "resume.npz")
    for a, b in zip(first.trainable_weights, tuned.trainable_weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["init_from"] == str(start) and config["init_sha256"] == stored_sha256(start)
    with pytest.raises(ValueError, match=r"not a checkpoint of this architecture: it holds \d+ weights"):
        init_weights(build("emonet_wide", 7), start)


def test_a_resumed_call_replays_the_stored_teacher_views(
    tmp_path: Path, tiny_fer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``teacher_views=1``: the first epoch asks the teacher and stores the view; a resumed call reads it back."""
    from training.distill import Teacher

    teacher = Path(__file__).resolve().parents[3] / "models" / "emonet.onnx"
    config = TrainConfig(
        data=str(tiny_fer), arch="emonet_small", epochs=2, warmup_epochs=0, batch_size=32,
        teacher=str(teacher), teacher_views=1,
    )  # fmt: skip
    asked: list[int] = []
    real = Teacher.probabilities

    def counted(self: Teacher, images: np.ndarray) -> np.ndarray:
        asked.append(len(images))
        return real(self, images)

    monkeypatch.setattr(Teacher, "probabilities", counted)
    faces = len(prepare(config)[0])  # the Training faces less the dev split
    train(config, tmp_path / "run", resume=True, stop_after=1)
    assert sum(asked) == faces
    assert (tmp_path / "run" / "teacher_views" / "view-000.npz").exists()

    train(config, tmp_path / "run", resume=True)
    assert sum(asked) == faces  # epoch 2 replays view 0 from the file
    assert len((tmp_path / "run" / "history.csv").read_text().splitlines()) == 1 + 2
