"""Knowledge distillation: a trained emostream ONNX model (the teacher) gives soft targets for each augmented batch.

The student learns from ``(1 - weight) * labels + weight * teacher``, where the teacher sees exactly the augmented
images the student sees, averaged over a horizontal flip (the teacher's flip-TTA score is higher than its plain
one). The teacher's ONNX graph outputs calibrated probabilities (its fitted temperature), which are the soft targets.

    python -m training.train --run-dir runs/emonet-v3 --arch emonet_wide --teacher models/emonet.onnx \\
        --teacher-weight 0.5 --epochs 200
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Teacher:
    """An exported model run with ONNX Runtime on (N, 48, 48) float32 images in [0, 1]."""

    def __init__(self, path: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise FileNotFoundError(f"{path}: no teacher model")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, 48, 48) float32 in [0, 1] -> (N, C) probabilities, the mean over the image and its mirror."""
        batch = images.astype(np.float32)[..., None]
        both = np.concatenate([batch, batch[:, :, ::-1]], axis=0)
        probabilities = np.asarray(self.session.run(None, {self.input: both})[0], dtype=np.float32)
        return 0.5 * (probabilities[: len(images)] + probabilities[len(images) :])


def blend(targets: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * targets + weight * teacher``; each row still sums to 1."""
    if targets.shape != teacher.shape:
        raise ValueError(f"targets {targets.shape} and teacher probabilities {teacher.shape} differ in shape")
    return ((1.0 - weight) * targets + weight * teacher).astype(np.float32)
