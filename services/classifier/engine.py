"""The emotion model behind one small interface: 48x48 uint8 crops in, 7 probabilities out.

The ONNX file carries its own description in its metadata (name, version, classes, input spec,
temperature); the engine reads it, so a model file is self-describing wherever it travels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from emostream.core.labels import EMOTIONS
from emostream.core.types import ModelInfo
from emostream.models import MODEL_DIR

DEFAULT_MODEL = MODEL_DIR / "emonet.onnx"
CROP_SIZE = 48


class ModelLoadError(RuntimeError):
    """The model file is missing or is not an emostream emotion model."""


class CropShapeError(ValueError):
    """Crops were not (N, 48, 48) uint8."""


class EmotionClassifier(Protocol):
    """What every stage needs from a classifier: in-process engine or gRPC client alike."""

    @property
    def info(self) -> ModelInfo: ...

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """(N, 48, 48) uint8 crops -> (N, 7) float32 calibrated probabilities (FER2013 order)."""
        ...


def validate_crops(crops: np.ndarray) -> np.ndarray:
    if crops.dtype != np.uint8:
        raise CropShapeError(f"crops must be uint8, got {crops.dtype}")
    if crops.ndim != 3 or crops.shape[1:] != (CROP_SIZE, CROP_SIZE):
        raise CropShapeError(f"crops must have shape (N, 48, 48), got {tuple(crops.shape)}")
    return crops


class OnnxEmotionClassifier:
    """ONNX Runtime engine. Providers are tried in order; CUDA is skipped where it is absent."""

    def __init__(
        self,
        model_path: Path = DEFAULT_MODEL,
        providers: Sequence[str] = ("CUDAExecutionProvider", "CPUExecutionProvider"),
        intra_op_threads: int = 0,
        inter_op_threads: int = 1,
        io_binding: bool | None = None,
    ) -> None:
        import onnxruntime as ort

        if not model_path.is_file():
            raise ModelLoadError(f"{model_path}: no such model file")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = inter_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        available = set(ort.get_available_providers())
        chosen = [p for p in providers if p in available] or ["CPUExecutionProvider"]
        try:
            self._session = ort.InferenceSession(str(model_path), options, providers=chosen)
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise ModelLoadError(f"{model_path}: not a loadable ONNX model ({error})") from error
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name
        self._info = _read_info(self._session, model_path, tuple(self._session.get_providers()))
        on_cuda = "CUDAExecutionProvider" in self._info.providers
        bind = on_cuda if io_binding is None else io_binding
        # IO binding (default: on CUDA): the batch is copied to the device once, the output allocated there
        self._binding_device = ("cuda" if on_cuda else "cpu") if bind else None

    @property
    def info(self) -> ModelInfo:
        return self._info

    def classify(self, crops: np.ndarray) -> np.ndarray:
        validate_crops(crops)
        if len(crops) == 0:
            return np.zeros((0, len(self._info.classes)), dtype=np.float32)
        batch = (crops.astype(np.float32) * (1.0 / 255.0))[..., None]
        if self._binding_device is not None:
            return rows_summing_to_one(run_bound(self._session, self._input, self._output, batch, self._binding_device))
        (probabilities,) = self._session.run(None, {self._input: batch})
        return rows_summing_to_one(np.asarray(probabilities, dtype=np.float32))

    @property
    def io_binding_device(self) -> str | None:
        """Where IO binding puts the tensors ("cuda", "cpu"), or None when the plain ``run`` is used."""
        return self._binding_device


def rows_summing_to_one(probabilities: np.ndarray) -> np.ndarray:
    """Each face's probabilities divided by their sum: a model whose softmax output is quantised (the int8 exports
    before 12-05) gives rows that miss 1 by up to a percent."""
    return probabilities / np.maximum(probabilities.sum(axis=1, keepdims=True), np.finfo(np.float32).tiny)


def run_bound(session: Any, input_name: str, output_name: str, batch: np.ndarray, device: str) -> np.ndarray:
    """One inference through ONNX Runtime's IO binding: ``batch`` placed on ``device`` once, the output
    allocated there by the session and copied back once."""
    import onnxruntime as ort

    binding = session.io_binding()
    binding.bind_ortvalue_input(input_name, ort.OrtValue.ortvalue_from_numpy(batch, device, 0))
    binding.bind_output(output_name, device)
    session.run_with_iobinding(binding)
    return np.asarray(binding.copy_outputs_to_cpu()[0], dtype=np.float32)


def _read_info(session: object, path: Path, providers: tuple[str, ...]) -> ModelInfo:
    meta = session.get_modelmeta().custom_metadata_map  # type: ignore[attr-defined]
    try:
        classes = tuple(json.loads(meta.get("classes", json.dumps(list(EMOTIONS)))))
        return ModelInfo(
            name=meta.get("name", path.stem),
            version=meta.get("version", "unknown"),
            classes=classes,
            input_size=int(meta.get("input_size", CROP_SIZE)),
            temperature=float(meta.get("temperature", 1.0)),
            providers=providers,
        )
    except (ValueError, TypeError) as error:
        raise ModelLoadError(f"{path}: malformed emostream metadata ({error})") from error
