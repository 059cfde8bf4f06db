"""Knowledge distillation: trained emostream ONNX models (the teacher) give soft targets for each augmented batch.

The student learns from ``(1 - weight) * labels + weight * teacher``, where the teacher sees exactly the augmented
images the student sees, averaged over a horizontal flip (the teacher's flip-TTA score is higher than its plain
one). The teacher's ONNX graph outputs calibrated probabilities (its fitted temperature), which are the soft targets,
renormalised to sum to 1: an int8 graph's quantized softmax rows sum to 0.990-1.004 (0.996 on average), and
TensorFlow's softmax cross-entropy takes its gradient as ``softmax - targets``, which for rows summing to less than 1
pushes every logit down on every step. That bias made ``emonet-v5``'s logits drift by a common offset (the median
largest |logit| 93 at epoch 43, 651 at epoch 103; v3, taught by a float32 graph, 2.9) until training diverged
(training/checkpoints/README.md). Keras's torch backend computes ``-sum(targets * log_softmax)``, which has no bias.
Several models, comma-separated, make an ensemble teacher: the mean of their flip-averaged probabilities.

    python -m training.train --run-dir runs/emonet-v3 --arch emonet_wide --teacher models/emonet.onnx \\
        --teacher-weight 0.5 --epochs 200
    python -m training.train --run-dir runs/emonet-v4 --arch emonet_wide \\
        --teacher training/teachers/emonet-v2.int8.onnx,training/teachers/emonet-v3.int8.onnx --epochs 200
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emostream.classifier.engine import rows_summing_to_one


def teacher_paths(spec: str) -> list[Path]:
    """``--teacher``'s value: one ONNX path, or several separated by commas (an ensemble)."""
    paths = [Path(part.strip()) for part in spec.split(",") if part.strip()]
    if not paths:
        raise ValueError(f"--teacher {spec!r} names no model")
    return paths


class Teacher:
    """Exported models run with ONNX Runtime on (N, 48, 48) float32 images in [0, 1]; several make an ensemble."""

    def __init__(self, paths: Path | Sequence[Path], threads: int = 0) -> None:
        import onnxruntime as ort

        paths = [paths] if isinstance(paths, Path) else list(paths)
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no teacher model")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.sessions = [ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]) for p in paths]
        self.inputs = [session.get_inputs()[0].name for session in self.sessions]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, 48, 48) float32 in [0, 1] -> (N, C) probabilities: the mean over the models, the image and its mirror."""
        batch = images.astype(np.float32)[..., None]
        both = np.concatenate([batch, batch[:, :, ::-1]], axis=0)
        outputs = [
            rows_summing_to_one(session.run(None, {name: both})[0])
            for session, name in zip(self.sessions, self.inputs, strict=True)
        ]
        mean = np.asarray(np.mean(outputs, axis=0), dtype=np.float32)
        return 0.5 * (mean[: len(images)] + mean[len(images) :])


def check_targets(targets: np.ndarray, tolerance: float = 1e-4) -> np.ndarray:
    """``targets``, if each row sums to 1: TensorFlow's softmax cross-entropy gradient (``softmax - targets``) is
    biased for rows that do not, and the bias accumulates over a run as a drift of all logits."""
    sums = targets.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(float(sums[worst]) - 1.0) > tolerance:
        raise ValueError(f"training targets must sum to 1 in each row; row {worst} sums to {sums[worst]:.6f}")
    return targets


def blend(targets: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * targets + weight * teacher``; each row still sums to 1."""
    if targets.shape != teacher.shape:
        raise ValueError(f"targets {targets.shape} and teacher probabilities {teacher.shape} differ in shape")
    return ((1.0 - weight) * targets + weight * teacher).astype(np.float32)
