"""Teacher targets kept for K fixed views: stored once complete, read back by a later epoch or a resumed call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.teacher_views import TeacherViews, views_key

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "emonet.onnx"


def _rows(count: int, seed: int) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(count, 7))
    return (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)


def _fill(views: TeacherViews, view: int, rows: np.ndarray) -> None:
    for index in range(views.batches):
        views.put(view, index, rows[index * views.batch_size : (index + 1) * views.batch_size])


def test_epochs_cycle_through_the_views() -> None:
    views = TeacherViews(Path("unused"), views=3, samples=10, batch_size=4, key="k")
    assert [views.view(epoch) for epoch in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert views.batches == 3
    with pytest.raises(ValueError, match="at least 1"):
        TeacherViews(Path("unused"), views=0, samples=10, batch_size=4, key="k")


def test_a_complete_view_is_saved_and_read_back_by_a_new_store(tmp_path: Path) -> None:
    rows = _rows(10, seed=0)
    views = TeacherViews(tmp_path, views=2, samples=10, batch_size=4, key="k")
    _fill(views, 1, rows)
    assert views.save(1)
    assert not views.save(1)  # already stored

    again = TeacherViews(tmp_path, views=2, samples=10, batch_size=4, key="k")
    last = again.get(1, 2)
    assert last is not None and last.shape == (2, 7)  # the short last batch
    np.testing.assert_allclose(last, rows[8:], atol=2e-3)  # stored as float16
    np.testing.assert_allclose(last.sum(axis=1), 1.0, rtol=1e-6)  # renormalised after the rounding
    assert again.get(0, 0) is None  # view 0 was never computed


def test_an_incomplete_view_is_not_saved(tmp_path: Path) -> None:
    views = TeacherViews(tmp_path, views=1, samples=10, batch_size=4, key="k")
    views.put(0, 0, _rows(4, seed=1))
    assert views.get(0, 0) is not None  # known in memory for this call
    assert not views.save(0)
    assert not views.path(0).exists()
    with pytest.raises(IndexError):
        views.put(0, 3, _rows(4, seed=1))


def test_a_view_made_for_other_settings_is_recomputed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = TeacherViews(tmp_path, views=1, samples=10, batch_size=4, key=views_key({"teacher": "a.onnx"}))
    _fill(first, 0, _rows(10, seed=2))
    first.save(0)

    other = TeacherViews(tmp_path, views=1, samples=10, batch_size=4, key=views_key({"teacher": "b.onnx"}))
    assert other.get(0, 0) is None
    assert "made for other settings" in capsys.readouterr().out
    _fill(other, 0, _rows(10, seed=3))
    assert other.save(0)  # replaces the stale file
    reread = TeacherViews(tmp_path, 1, 10, 4, other.key).get(0, 0)
    assert reread is not None
    np.testing.assert_allclose(reread, _rows(10, seed=3)[:4], atol=2e-3)


def test_a_replayed_view_has_the_same_batches_and_asks_the_teacher_no_more(
    tmp_path: Path, tiny_fer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two views, epoch 2 replays epoch 0's batches, its targets read from the stored view, not the teacher."""
    pytest.importorskip("keras")
    pytest.importorskip("onnxruntime")
    from training.distill import Teacher
    from training.train import FerSequence, TrainConfig, class_weights, prepare

    asked: list[int] = []
    real = Teacher.probabilities

    def counted(self: Teacher, images: np.ndarray) -> np.ndarray:
        asked.append(len(images))
        return real(self, images)

    monkeypatch.setattr(Teacher, "probabilities", counted)
    config = TrainConfig(data=str(tiny_fer), batch_size=32, teacher=str(SHIPPED), teacher_views=2)
    train, _, targets, _ = prepare(config)
    weights = class_weights(train.labels, 7, config.class_weight_power)[train.labels]
    views = TeacherViews(tmp_path, 2, len(train), config.batch_size, key="k")
    sequence = FerSequence(train.images, targets, weights, config, 0, 1, 1, views)

    def epoch() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        batches = [sequence[index] for index in range(len(sequence))]
        sequence.on_epoch_end()
        return batches

    first, second = epoch(), epoch()
    assert len(asked) == 2 * len(sequence) and views.path(0).exists() and views.path(1).exists()
    replay = epoch()
    assert len(asked) == 2 * len(sequence)  # the teacher was not asked again
    assert not np.array_equal(first[0][0], second[0][0])  # two different views
    for (images, blended, _), (again, blended_again, _) in zip(first, replay, strict=True):
        np.testing.assert_array_equal(images, again)
        np.testing.assert_allclose(blended, blended_again, atol=2e-3)  # the teacher's half read back from float16
