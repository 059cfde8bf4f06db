"""ONNX Runtime sessions for the detectors, and where their weights live."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from emostream.models import MODEL_DIR as _MODELS

MODEL_DIR = _MODELS / "detector"
"""``models/detector`` (package data of ``emostream.models``, written by ``tools/convert_face_detectors.py``)."""


class ModelNotFoundError(FileNotFoundError):
    """A detector's ONNX file is missing: run ``python tools/convert_face_detectors.py``."""


def create_session(
    path: Path, intra_op_threads: int = 1, providers: tuple[str, ...] = ("CPUExecutionProvider",)
) -> ort.InferenceSession:
    """A sequential ORT session with ``intra_op_threads`` threads and no busy-waiting between runs.

    Spinning is off so that idle detector threads do not steal the CPU from decoding and
    classification, which share the same few cores.
    """
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing: run `python tools/convert_face_detectors.py`")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = intra_op_threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    available = set(ort.get_available_providers())
    chosen = [p for p in providers if p in available] or ["CPUExecutionProvider"]
    return ort.InferenceSession(str(path), sess_options=opts, providers=chosen)
