"""Export a trained Keras model to ONNX (dynamic batch, calibrated softmax), TFLite and int8 ONNX.

    python -m training.export --checkpoint runs/emonet-v1/best.keras --name emonet --out models/

``--checkpoint`` may also be a run's committed ``resume.npz`` (weights rebuilt from its ``config.json``).

1. Temperature scaling is fitted on the run's dev split (never on PublicTest).
2. The ONNX graph outputs softmax(logits / T) and carries its own metadata (name, version,
   classes, temperature, input spec), which the runtime reads.
3. Every export is checked against Keras on the whole of PublicTest: argmax agreement and the
   largest probability difference go into ``<name>.export.json``.

A candidate that is not (yet) to be shipped is exported with ``--check-split dev``: the checks then run on the run's
dev split, so choosing between candidates never shows their PublicTest accuracy (this issue's rule: PublicTest is
reported once per model, for the model shipped). The int8 calibration images are the first 1,024 dev faces either way.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emostream.core.labels import class_names
from training.checkpoint import load_checkpoint
from training.data import SPLIT_VAL, load_fer2013, to_six_classes
from training.int8 import to_int8
from training.npz_store import stored_sha256
from training.report.run_info import load_run_config
from training.train import TrainConfig, prepare


@dataclass(frozen=True)
class ExportCheck:
    format: str
    path: str
    bytes: int
    argmax_agreement: float
    max_abs_prob_diff: float
    accuracy: float


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the NLL of softmax(logits / T) (Guo et al. 2017)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.25), np.log(8.0)), method="bounded")
    return float(np.exp(result.x))


def calibrated_model(model: Any, temperature: float) -> Any:
    import keras

    scaled = keras.layers.Rescaling(1.0 / temperature, name="temperature")(model.output)
    probabilities = keras.layers.Softmax(name="probabilities")(scaled)
    return keras.Model(model.input, probabilities, name=f"{model.name}_calibrated")


def to_onnx(model: Any, path: Path, metadata: dict[str, str]) -> None:
    import onnx
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, 48, 48, 1), tf.float32, name="face"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=17)
    proto.graph.output[0].name = proto.graph.output[0].name  # keep tf2onnx's name; runtime takes output 0
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    path.write_bytes(proto.SerializeToString())


def to_tflite(model: Any, path: Path) -> None:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    path.write_bytes(converter.convert())


def model_input(images: np.ndarray) -> np.ndarray:
    """uint8 faces (N, 48, 48) as the exported graph's input: float32 (N, 48, 48, 1) in [0, 1]."""
    return (images.astype(np.float32) / 255.0)[..., None]


def onnx_probabilities(path: Path, images: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: images[i : i + 256]})[0] for i in range(0, len(images), 256)])


def tflite_probabilities(path: Path, images: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], [256, 48, 48, 1])
    interpreter.allocate_tensors()
    out_index = interpreter.get_output_details()[0]["index"]
    outputs = []
    for i in range(0, len(images), 256):
        chunk = images[i : i + 256]
        padded = np.zeros((256, 48, 48, 1), dtype=np.float32)
        padded[: len(chunk)] = chunk
        interpreter.set_tensor(detail["index"], padded)
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out_index)[: len(chunk)].copy())
    return np.concatenate(outputs)


def check(fmt: str, path: Path, reference: np.ndarray, candidate: np.ndarray, labels: np.ndarray) -> ExportCheck:
    return ExportCheck(
        format=fmt,
        path=str(path),
        bytes=path.stat().st_size,
        argmax_agreement=float((reference.argmax(1) == candidate.argmax(1)).mean()),
        max_abs_prob_diff=float(np.abs(reference - candidate).max()),
        accuracy=float((candidate.argmax(1) == labels).mean()),
    )


def float32_model(model: Any, config: TrainConfig) -> Any:
    """The same weights in an all-float32 graph, for a model trained under a mixed-precision policy."""
    import keras

    from training.models import build

    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    keras.mixed_precision.set_global_policy("float32")
    rebuilt = build(config.arch, config.classes)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


CHECK_SPLITS = ("publictest", "dev")


def export(
    checkpoint: Path, name: str, version: str, out_dir: Path, formats: tuple[str, ...], check_split: str = "publictest"
) -> dict[str, Any]:
    if check_split not in CHECK_SPLITS:
        raise ValueError(f"check_split must be one of {CHECK_SPLITS}, not {check_split!r}")
    config, _ = load_run_config(checkpoint.parent)
    model = float32_model(load_checkpoint(checkpoint), config)
    _, dev, _, data_hash = prepare(config)
    dev_x = model_input(dev.images)
    temperature = fit_temperature(np.asarray(model.predict(dev_x, batch_size=256, verbose=0)), dev.labels)
    calibrated = calibrated_model(model, temperature)

    if check_split == "dev":
        val_x, val_labels = dev_x, dev.labels
    else:
        val = load_fer2013(Path(config.data)).split(SPLIT_VAL)
        if config.classes == 6:
            val = to_six_classes(val)
        val_x, val_labels = model_input(val.images), val.labels
    reference = np.asarray(calibrated.predict(val_x, batch_size=256, verbose=0))

    out_dir.mkdir(parents=True, exist_ok=True)
    metadata = {
        "name": name,
        "version": version,
        "classes": json.dumps(list(class_names(config.classes))),
        "input_size": "48",
        "input_spec": "face: float32 (N, 48, 48, 1), grayscale in [0, 1]; per-image standardisation in the graph",
        "temperature": f"{temperature:.6f}",
        "architecture": config.arch,
        "train_data_sha256": data_hash,
        "checkpoint_sha256": stored_sha256(checkpoint),
    }
    checks: list[ExportCheck] = []
    onnx_path = out_dir / f"{name}.onnx"
    to_onnx(calibrated, onnx_path, metadata)
    checks.append(check("onnx", onnx_path, reference, onnx_probabilities(onnx_path, val_x), val_labels))
    if "tflite" in formats:
        tflite_path = out_dir / f"{name}.tflite"
        to_tflite(calibrated, tflite_path)
        checks.append(check("tflite", tflite_path, reference, tflite_probabilities(tflite_path, val_x), val_labels))
    if "int8" in formats:
        int8_path = out_dir / f"{name}.int8.onnx"
        to_int8(onnx_path, int8_path, dev_x[:1024])
        checks.append(check("onnx-int8", int8_path, reference, onnx_probabilities(int8_path, val_x), val_labels))
    summary = {
        "name": name,
        "version": version,
        "checkpoint": str(checkpoint),
        "temperature": temperature,
        "check_split": check_split,
        f"keras_accuracy_{check_split}": float((reference.argmax(1) == val_labels).mean()),
        "checks": [asdict(c) for c in checks],
    }
    (out_dir / f"{name}.export.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="a run's .keras or resume.npz")
    parser.add_argument("--name", default="emonet")
    parser.add_argument("--version", default="1")
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--formats", default="onnx,tflite,int8", help="comma list of onnx, tflite, int8")
    parser.add_argument(
        "--check-split", choices=CHECK_SPLITS, default="publictest",
        help="where the exports are checked against Keras: PublicTest (the model to ship) or the run's dev split "
        "(a candidate: its PublicTest accuracy stays unseen)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    formats = tuple(args.formats.split(","))
    summary = export(args.checkpoint, args.name, args.version, args.out, formats, args.check_split)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
