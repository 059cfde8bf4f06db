"""Static int8 quantisation of an exported ONNX model, by a named recipe (calibration, signedness, float nodes).

``SHIPPED`` is what ``make export`` writes as ``<name>.int8.onnx``; ``python -m training.int8_calibration``
compares it with the other recipes on a run's dev split, which is how it was chosen.
"""

from __future__ import annotations

import inspect
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATIONS = ("minmax", "percentile", "entropy")
QUANTIZED_BINS = 128  # the levels the entropy (KL) search compresses a histogram to, as in TensorRT


@dataclass(frozen=True)
class Int8Recipe:
    """How to quantise: ``calibration`` of the activation ranges (``percentile`` keeps that share of values,
    ``entropy`` picks the KL-closest 128-level range out of an ``entropy_bins`` histogram), uint8 or symmetric
    int8 activations, and whether the first convolution and the classifier stay float32."""

    name: str
    calibration: str = "minmax"
    percentile: float = 99.999
    signed_activations: bool = False
    keep_first_and_last_float: bool = False
    entropy_bins: int = 2048

    def __post_init__(self) -> None:
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"int8 recipe {self.name}: calibration {self.calibration!r} is not one of {CALIBRATIONS}")
        if self.entropy_bins < 2 * QUANTIZED_BINS:
            raise ValueError(f"int8 recipe {self.name}: entropy_bins {self.entropy_bins} < {2 * QUANTIZED_BINS}")


SHIPPED = Int8Recipe("u8-minmax-float-ends", keep_first_and_last_float=True)

RECIPES = (
    Int8Recipe("u8-minmax"),
    Int8Recipe("u8-percentile", calibration="percentile"),
    Int8Recipe("u8-entropy", calibration="entropy"),
    Int8Recipe("s8-minmax", signed_activations=True),
    SHIPPED,
    Int8Recipe("u8-percentile-float-ends", calibration="percentile", keep_first_and_last_float=True),
    Int8Recipe("u8-entropy-float-ends", calibration="entropy", keep_first_and_last_float=True),
    Int8Recipe("s8-minmax-float-ends", signed_activations=True, keep_first_and_last_float=True),
)


def recipe_named(name: str) -> Int8Recipe:
    for recipe in RECIPES:
        if recipe.name == name:
            return recipe
    raise ValueError(f"no int8 recipe {name!r}; known: {', '.join(r.name for r in RECIPES)}")


def float_kept_nodes(graph_nodes: list[Any]) -> list[str]:
    """The first convolution and the classifier with everything after it (bias, temperature, softmax), which
    ``keep_first_and_last_float`` leaves in float32.

    The first convolution reads the per-image standardised face, whose few extreme pixels
    stretch a uint8 range until the common ones lose their detail; the classifier's seven
    logits are where a small error flips a decision, and a quantised softmax output has 256 levels whose rows
    miss a sum of 1 by up to a percent (the int8 exports before 12-05: 0.990-1.004).
    """
    convs = [node.name for node in graph_nodes if node.op_type == "Conv"]
    heads = [index for index, node in enumerate(graph_nodes) if node.op_type in ("Gemm", "MatMul")]
    tail = [node.name for node in graph_nodes[heads[-1] :]] if heads else []
    return convs[:1] + tail


def to_int8(onnx_path: Path, int8_path: Path, calibration: np.ndarray, recipe: Int8Recipe = SHIPPED) -> None:
    """Static int8 quantisation (QDQ, per-channel int8 weights), activation ranges calibrated on ``calibration``
    crops (dev faces, never PublicTest); the metadata of ``onnx_path`` is kept, its version marked ``-int8``."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    input_name = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    batches = [calibration[i : i + 64] for i in range(0, len(calibration), 64)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {input_name: batch}

    methods = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }
    extra: dict[str, Any] = {"ActivationSymmetric": True} if recipe.signed_activations else {}
    if recipe.calibration == "percentile":
        extra["CalibPercentile"] = recipe.percentile
    prepared = int8_path.with_suffix(".pre.onnx")
    quant_pre_process(str(onnx_path), str(prepared))
    kept_float = float_kept_nodes(list(onnx.load(str(prepared)).graph.node)) if recipe.keep_first_and_last_float else []
    try:
        with tempfile.TemporaryDirectory(prefix="emostream-int8-") as scratch:
            ranges: dict[str, Any] = {}
            if recipe.calibration == "entropy":
                ranges["calibration_cache_path"] = _entropy_ranges(
                    prepared, Reader(), recipe.entropy_bins, Path(scratch)
                )
            quantize_static(
                str(prepared),
                str(int8_path),
                Reader(),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QInt8 if recipe.signed_activations else QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=kept_float,
                calibrate_method=methods[recipe.calibration],
                extra_options=extra,
                **ranges,
            )
    finally:
        prepared.unlink(missing_ok=True)

    proto = onnx.load(str(int8_path))
    source = onnx.load(str(onnx_path))
    del proto.metadata_props[:]
    for entry in source.metadata_props:
        added = proto.metadata_props.add()
        added.key, added.value = entry.key, entry.value + ("-int8" if entry.key == "version" else "")
    onnx.save(proto, str(int8_path))


def _entropy_ranges(model: Path, reader: Any, histogram_bins: int, scratch: Path) -> Path:
    """KL-divergence activation ranges, written under ``scratch`` where ``quantize_static(calibration_cache_path=)``
    reads them; returns that file.

    ``quantize_static`` builds its entropy calibrator with 128 histogram bins and 128 quantised bins, which
    leaves the KL search a single candidate, the full range: it is min-max under another name (its study row
    matched u8-minmax on every dev face). A finer histogram gives the search room to clip the rare outliers.
    """
    from onnxruntime.quantization import CalibrationMethod, quantize_static
    from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data

    if "calibration_cache_path" not in inspect.signature(quantize_static).parameters:
        raise RuntimeError(
            "entropy calibration needs an onnxruntime whose quantize_static takes calibration_cache_path"
        )
    calibrator = create_calibrator(
        model,
        augmented_model_path=str(scratch / "augmented.onnx"),
        calibrate_method=CalibrationMethod.Entropy,
        extra_options={"num_bins": histogram_bins, "num_quantized_bins": QUANTIZED_BINS},
    )
    calibrator.collect_data(reader)
    ranges = scratch / "ranges.json"
    save_tensors_data(calibrator.compute_data(), ranges)
    return ranges
