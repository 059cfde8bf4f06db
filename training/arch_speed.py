"""Int8 speed of ``emonet`` block layouts before any of them is trained: which deeper net keeps 2,000 crops/s?

    python -m training.arch_speed [--blocks 1111 1221 1122 1222 2222] [--rounds 3] [--repeats 15]
    python -m training.arch_speed --blocks emonet_wide emonet_slim

Each layout (blocks a stage at ``emonet_wide``'s widths, 48-384, or an architecture of ``training/models.py`` by
name) is built untrained, exported to ONNX and
quantised by the shipped int8 recipe (``training/int8.py``, calibrated on Training faces: the weights are
random, so only the graph's speed means anything), then timed through the runtime engine at batch 64 with
``--threads`` threads. The layouts take turns for ``--rounds`` rounds, and each one's median crops/s is also
given as a ratio to the first layout's, since a host's absolute speed drifts from call to call.
Writes ``reports/emonet/arch_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from training.train import DEFAULT_DATA

WIDTHS = (48, 96, 192, 384)
DEFAULT_LAYOUTS = ("1111", "1221", "1122", "1222", "2222")
BATCH = 64
TARGET_CROPS_PER_S = 2000.0


def parse_layout(text: str) -> tuple[int, ...]:
    """``"1221"`` -> (1, 2, 2, 1): one digit, the blocks of a stage, for each of the four stages."""
    if len(text) != len(WIDTHS) or not text.isdigit() or "0" in text:
        raise ValueError(
            f"layout {text!r}: give {len(WIDTHS)} digits from 1 to 9, the blocks of each stage, or an architecture's "
            "name"
        )
    return tuple(int(digit) for digit in text)


def check_layout(text: str) -> None:
    """Raises ValueError unless ``text`` is a block layout or the name of an architecture."""
    from training.models import ARCHITECTURES

    if text not in ARCHITECTURES:
        parse_layout(text)


def int8_export(layout: str, out_dir: Path, calibration: np.ndarray) -> tuple[Path, int]:
    """The untrained layout's int8 ONNX file and its MACs."""
    from training.export import calibrated_model, to_onnx
    from training.int8 import to_int8
    from training.models import ARCHITECTURES, emonet
    from training.report.macs import count_macs

    model = ARCHITECTURES[layout](7) if layout in ARCHITECTURES else emonet(7, WIDTHS, parse_layout(layout))
    name = layout
    onnx_path, int8_path = out_dir / f"{name}.onnx", out_dir / f"{name}.int8.onnx"
    to_onnx(calibrated_model(model, 1.0), onnx_path, {"name": f"emonet-{name}", "version": "untrained"})
    to_int8(onnx_path, int8_path, calibration)
    return int8_path, sum(entry.macs for entry in count_macs(model))


def measure(layouts: list[str], data: Path, rounds: int, repeats: int, threads: int) -> dict[str, Any]:
    from emostream.classifier.engine import OnnxEmotionClassifier
    from training.export import model_input
    from training.report.speed import crops_per_second

    with np.load(data) as npz:
        faces = np.ascontiguousarray(npz["x_train"][:256])
    speeds: dict[str, list[float]] = {layout: [] for layout in layouts}
    macs: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        engines = {}
        for layout in layouts:
            path, macs[layout] = int8_export(layout, Path(scratch), model_input(faces))
            engines[layout] = OnnxEmotionClassifier(path, ("CPUExecutionProvider",), intra_op_threads=threads)
        for _ in range(rounds):
            for layout, engine in engines.items():
                speeds[layout].append(crops_per_second(engine.classify, faces, BATCH, repeats))
    first = statistics.median(speeds[layouts[0]])
    return {
        "command": f"python -m training.arch_speed --blocks {' '.join(layouts)} --rounds {rounds} "
        f"--repeats {repeats} --threads {threads}",
        "widths": list(WIDTHS),
        "batch": BATCH,
        "threads": threads,
        "cores": os.cpu_count(),
        "layouts": {
            layout: {
                "mflops": round(2 * macs[layout] / 1e6, 1),
                "crops_per_s_median": round(statistics.median(runs), 1),
                "crops_per_s_rounds": [round(speed, 1) for speed in runs],
                "ratio_to_first": round(statistics.median(runs) / first, 3),
                "meets_target": statistics.median(runs) >= TARGET_CROPS_PER_S,
            }
            for layout, runs in speeds.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", nargs="+", default=list(DEFAULT_LAYOUTS), metavar="LAYOUT")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="npz with x_train (Training faces: calibration and timing input)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("reports/emonet/arch_speed.json"))
    args = parser.parse_args(argv)
    for layout in args.blocks:
        try:
            check_layout(layout)
        except ValueError as error:
            parser.error(str(error))
    result = measure(args.blocks, args.data, args.rounds, args.repeats, args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for layout, row in result["layouts"].items():
        speed, ratio = row["crops_per_s_median"], row["ratio_to_first"]
        print(f"{layout}: {row['mflops']:6.1f} MFLOPs {speed:7.0f} crops/s  x{ratio}")
    print(args.out)


if __name__ == "__main__":
    main()
