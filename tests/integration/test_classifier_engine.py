"""The shipped model through the runtime engine: self-describing, batch-first, strict about its input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emostream.classifier.engine import CropShapeError, ModelLoadError, OnnxEmotionClassifier
from emostream.core.labels import EMOTIONS


@pytest.fixture(scope="module")
def engine() -> OnnxEmotionClassifier:
    return OnnxEmotionClassifier(providers=("CUDAExecutionProvider", "CPUExecutionProvider"), intra_op_threads=1)


def test_model_describes_itself(engine: OnnxEmotionClassifier) -> None:
    assert engine.info.classes == EMOTIONS
    assert engine.info.input_size == 48
    assert engine.info.temperature > 0
    assert engine.info.providers[-1] == "CPUExecutionProvider"  # CUDA skipped where absent


@pytest.mark.parametrize("count", [0, 1, 7, 64])
def test_batches_of_any_size(engine: OnnxEmotionClassifier, count: int) -> None:
    crops = np.random.default_rng(count).integers(0, 256, (count, 48, 48), dtype=np.uint8)
    probabilities = engine.classify(crops)
    assert probabilities.shape == (count, 7)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_probabilities_sum_to_one_even_where_the_models_softmax_is_quantised() -> None:
    # a frozen int8 export whose quantised softmax rows sum to 0.990-1.004
    frozen = Path(__file__).resolve().parents[2] / "training" / "teachers" / "emonet-v2.int8.onnx"
    int8 = OnnxEmotionClassifier(frozen, intra_op_threads=1)
    crops = np.random.default_rng(9).integers(0, 256, (32, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(int8.classify(crops).sum(axis=1), 1.0, atol=1e-5)


def test_batching_does_not_change_results(engine: OnnxEmotionClassifier) -> None:
    crops = np.random.default_rng(1).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    one_by_one = np.concatenate([engine.classify(crops[i : i + 1]) for i in range(8)])
    assert np.allclose(engine.classify(crops), one_by_one, atol=1e-5)


@pytest.mark.parametrize(
    ("crops", "message"),
    [
        (np.zeros((2, 48, 48), np.float32), "uint8"),
        (np.zeros((2, 64, 64), np.uint8), r"\(N, 48, 48\)"),
        (np.zeros((48, 48), np.uint8), r"\(N, 48, 48\)"),
    ],
)
def test_wrong_crops_are_refused(engine: OnnxEmotionClassifier, crops: np.ndarray, message: str) -> None:
    with pytest.raises(CropShapeError, match=message):
        engine.classify(crops)


def test_missing_or_broken_model(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no such model"):
        OnnxEmotionClassifier(tmp_path / "none.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="not a loadable ONNX model"):
        OnnxEmotionClassifier(broken)


def test_shipped_model_is_small_and_committed() -> None:
    from emostream.classifier.engine import DEFAULT_MODEL

    assert DEFAULT_MODEL.parent.name == "models"
    assert DEFAULT_MODEL.stat().st_size <= 20 * 1024 * 1024


def test_io_binding_gives_the_plain_runs_probabilities(engine: OnnxEmotionClassifier) -> None:
    """IO binding is the CUDA path (on by default there); on the CPU it can be forced, and must agree."""
    assert engine.io_binding_device is None  # CPU: the plain run by default
    bound = OnnxEmotionClassifier(providers=("CPUExecutionProvider",), io_binding=True)
    assert bound.io_binding_device == "cpu"
    crops = np.random.default_rng(3).integers(0, 256, size=(5, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(bound.classify(crops), engine.classify(crops), atol=1e-6)
