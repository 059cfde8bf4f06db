"""Classifier on CUDA with IO binding: crops/s at batch 1..256, where onnxruntime's CUDAExecutionProvider
exists; otherwise one row that says there is no GPU here.

    python -m bench.gpu
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import SHARED_DATA, median
from bench.table import Row, not_run

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
COMMAND = "python -m bench.gpu"


def rows(quick: bool) -> list[Row]:
    import onnxruntime as ort

    from emostream.classifier.engine import DEFAULT_MODEL

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return [
            not_run(
                "gpu",
                "classifier on CUDA, IO binding, batch 1..256",
                "",
                "no GPU here (onnxruntime has no CUDAExecutionProvider)",
                COMMAND,
            )
        ]
    session = ort.InferenceSession(str(DEFAULT_MODEL), providers=["CUDAExecutionProvider"])
    name = session.get_inputs()[0].name
    with np.load(SHARED_DATA / "fer2013" / "fer2013_train_val.npz", mmap_mode="r") as data:
        crops = np.ascontiguousarray(data["x_val"][:256])
    out, repeats = [], 5 if quick else 50
    for batch in BATCHES:
        x = np.ascontiguousarray(
            (crops[:batch].astype(np.float32) * (1.0 / 255.0))[..., None]
        )  # as the engine feeds it
        value = ort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
        binding = session.io_binding()
        binding.bind_ortvalue_input(name, value)
        for output in session.get_outputs():
            binding.bind_output(output.name, "cuda")
        for _ in range(3):
            session.run_with_iobinding(binding)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            session.run_with_iobinding(binding)
            binding.synchronize_outputs()
            times.append(time.perf_counter() - started)
        speed = batch / median(times)
        out.append(
            Row(
                "gpu",
                f"CUDA IO binding @ batch {batch}",
                "",
                f"{speed:.0f} crops/s, {median(times) * 1000:.2f} ms/batch",
                None,
                COMMAND,
                {"crops_per_s": speed},
            )
        )
    return out
