"""training.int8: which nodes stay float, and what each quantisation recipe writes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from training.int8 import RECIPES, SHIPPED, Int8Recipe, float_kept_nodes, recipe_named, to_int8

onnx = pytest.importorskip("onnx")

SHIPPED_MODEL = Path(__file__).resolve().parents[3] / "models" / "emonet.onnx"


def node(op_type: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(op_type=op_type, name=name)


def test_the_first_convolution_and_the_classifier_with_what_follows_it_stay_float() -> None:
    graph = [
        node("ReduceMean", "standardise"),
        node("Conv", "stem1"),
        node("Relu", "stem1_relu"),
        node("Conv", "stem2"),
        node("Conv", "block"),
        node("MatMul", "logits"),
        node("Add", "logits_bias"),
        node("Mul", "temperature"),
        node("Softmax", "probabilities"),
    ]
    assert float_kept_nodes(graph) == ["stem1", "logits", "logits_bias", "temperature", "probabilities"]


def test_a_graph_without_a_dense_head_keeps_only_its_first_convolution() -> None:
    assert float_kept_nodes([node("Conv", "a"), node("Conv", "b"), node("Relu", "r")]) == ["a"]


def _first_conv_weight_is_float(path: Path) -> bool:
    graph = onnx.load(str(path)).graph
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    first_conv = next(n for n in graph.node if n.op_type == "Conv")
    return first_conv.input[1] not in dequantized


@pytest.fixture(scope="module")
def calibration_faces() -> np.ndarray:
    return np.random.default_rng(5).random((64, 48, 48, 1), dtype=np.float32)


def test_the_shipped_recipe_leaves_the_first_convolution_float_and_the_plain_one_quantises_it(
    tmp_path: Path, calibration_faces: np.ndarray
) -> None:
    pytest.importorskip("onnxruntime")
    to_int8(SHIPPED_MODEL, tmp_path / "shipped.onnx", calibration_faces)  # the default is what make export writes
    to_int8(SHIPPED_MODEL, tmp_path / "plain.onnx", calibration_faces, recipe_named("u8-minmax"))
    assert _first_conv_weight_is_float(tmp_path / "shipped.onnx")
    assert not _first_conv_weight_is_float(tmp_path / "plain.onnx")
    version = {p.key: p.value for p in onnx.load(str(tmp_path / "shipped.onnx")).metadata_props}["version"]
    assert version.endswith("-int8")
    assert not list(tmp_path.glob("*.pre.onnx"))  # the pre-processed intermediate is cleaned up
    import onnxruntime as ort

    session = ort.InferenceSession(str(tmp_path / "shipped.onnx"), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {session.get_inputs()[0].name: calibration_faces})[0]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)  # the softmax is not quantised


def test_recipes_are_found_by_name_and_bad_ones_say_what_is_wrong() -> None:
    assert recipe_named(SHIPPED.name) is SHIPPED
    assert len({r.name for r in RECIPES}) == len(RECIPES)
    with pytest.raises(ValueError, match="no int8 recipe 'fp4'"):
        recipe_named("fp4")
    with pytest.raises(ValueError, match="calibration 'kl'"):
        Int8Recipe("x", calibration="kl")
    with pytest.raises(ValueError, match="entropy_bins 64"):
        Int8Recipe("x", calibration="entropy", entropy_bins=64)


def _activation_scales(path: Path) -> dict[str, float]:
    graph = onnx.load(str(path)).graph
    constants = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    return {
        n.input[0]: float(constants[n.input[1]])
        for n in graph.node
        if n.op_type == "QuantizeLinear" and constants[n.input[1]].size == 1
    }


def test_entropy_calibration_clips_ranges_minmax_keeps_whole(tmp_path: Path, calibration_faces: np.ndarray) -> None:
    # quantize_static's own entropy calibrator (128 bins for 128 levels) had one candidate range, the full one
    pytest.importorskip("onnxruntime")
    to_int8(SHIPPED_MODEL, tmp_path / "minmax.onnx", calibration_faces, recipe_named("u8-minmax"))
    entropy = Int8Recipe("entropy-512", calibration="entropy", entropy_bins=512)
    to_int8(SHIPPED_MODEL, tmp_path / "entropy.onnx", calibration_faces, entropy)
    minmax, clipped = _activation_scales(tmp_path / "minmax.onnx"), _activation_scales(tmp_path / "entropy.onnx")
    shared = minmax.keys() & clipped.keys()
    assert len(shared) >= 10
    narrower = [name for name in shared if clipped[name] < 0.99 * minmax[name]]
    assert len(narrower) >= len(shared) // 2
    assert all(clipped[name] <= minmax[name] * 1.01 for name in shared)
