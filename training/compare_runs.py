"""Compare training runs epoch by epoch on their dev accuracy (``history.csv``'s ``val_acc``), a window at a time.

    python -m training.compare_runs training/checkpoints/emonet-v3 training/checkpoints/emonet-v4
    python -m training.compare_runs training/checkpoints/emonet-v3 training/checkpoints/emonet-v4 --metric acc

``--metric acc`` compares their accuracy on the (augmented) Training batches instead: with the dev table it tells a
run that is held back (both lower) from one that overfits (training higher, dev lower).

One row per window of ``--window`` epochs that every run has finished: each run's mean dev accuracy over it and
its difference from the first run's. Single epochs swing by a point or more on a dev split of 2,879 faces, so a
run in progress is judged on windows, not on its last epoch. Meant for runs that share a dev split (the same
data, ``dev_fraction`` and ``seed`` in their ``config.json``); it refuses others.

A second table gives each run's epoch times (``timing.jsonl``) by Keras backend and precision: the epochs, the
median and the range of their seconds. Epochs of one run can come from different hosts; the table says how a
run was trained, it is not a benchmark. ``--timing-epochs 25-51`` limits that table to those epochs (one
session's share of a run that spans several).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from training.report.numbers import read_history
from training.run_files import TIMING_LOG

METRICS = ("val_acc", "acc")


def epoch_values(run_dir: Path, metric: str = "val_acc") -> list[float]:
    """``history.csv``'s ``metric`` column for each finished epoch of the run, in order."""
    return read_history(run_dir / "history.csv").get(metric, [])


def dev_split_key(run_dir: Path) -> tuple[object, ...]:
    config = json.loads((run_dir / "config.json").read_text())
    return config.get("data_sha256"), config.get("dev_fraction"), config.get("seed"), config.get("classes")


def window_means(runs: list[list[float]], window: int) -> list[tuple[int, int, list[float]]]:
    """(first epoch, last epoch, each run's mean) for every whole window that all runs have finished."""
    common = min(len(run) for run in runs)
    rows = []
    for start in range(0, common - window + 1, window):
        rows.append((start + 1, start + window, [sum(run[start : start + window]) / window for run in runs]))
    return rows


def format_table(names: list[str], rows: list[tuple[int, int, list[float]]]) -> str:
    header = ["epochs", *names, *[f"{name} - {names[0]}" for name in names[1:]]]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for first, last, means in rows:
        cells = [f"{first}-{last}", *[f"{100 * mean:.2f}%" for mean in means]]
        cells += [f"{100 * (mean - means[0]):+.2f}" for mean in means[1:]]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


EpochRange = tuple[int, int]


def parse_epoch_range(text: str) -> EpochRange:
    """``"25-51"`` as (25, 51); a single ``"7"`` as (7, 7). Raises ValueError on anything else."""
    first, dash, last = text.partition("-")
    try:
        low, high = int(first), int(last if dash else first)
    except ValueError:
        raise ValueError(f"an epoch range is FIRST-LAST, e.g. 25-51, not {text!r}") from None
    if low < 1 or high < low:
        raise ValueError(f"an epoch range needs 1 <= FIRST <= LAST, not {text!r}")
    return low, high


def epoch_seconds(run_dir: Path, epochs: EpochRange | None = None) -> dict[tuple[str, str], list[float]]:
    """Each epoch's seconds in the run's ``timing.jsonl`` (only those in ``epochs``, inclusive, where given),
    grouped by (backend, precision) in the order the run first trained each way; empty where the run has no
    timing log."""
    path = run_dir / TIMING_LOG
    groups: dict[tuple[str, str], list[float]] = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        entry = json.loads(line)
        if epochs is not None and not epochs[0] <= int(entry["epoch"]) <= epochs[1]:
            continue
        way = (entry.get("backend", "unknown"), entry.get("precision", "unknown"))
        groups.setdefault(way, []).append(float(entry["seconds"]))
    return groups


def format_times(runs: list[Path], epochs: EpochRange | None = None) -> str:
    lines = ["run | backend | precision | epochs | median s | range s | hours", " | ".join("---" for _ in range(7))]
    for run in runs:
        groups = epoch_seconds(run, epochs)
        if len(groups) > 1:  # a run trained more than one way: a row for all its epochs too
            groups[("all", "all")] = [s for seconds in groups.values() for s in seconds]
        for (backend, precision), seconds in groups.items():
            spread = f"{min(seconds):.0f}-{max(seconds):.0f}"
            cells = [run.name, backend, precision, str(len(seconds)), f"{statistics.median(seconds):.0f}", spread]
            lines.append(" | ".join([*cells, f"{sum(seconds) / 3600:.1f}"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="run folders (history.csv, config.json)")
    parser.add_argument("--window", type=int, default=10, help="epochs a row averages")
    parser.add_argument(
        "--metric",
        choices=METRICS,
        default="val_acc",
        help="history.csv column: dev (val_acc) or training accuracy (acc)",
    )
    parser.add_argument(
        "--timing-epochs", metavar="FIRST-LAST", default=None,
        help="time only these epochs (inclusive), e.g. one session's share of a long run",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.window < 1:
        parser.error("--window must be at least 1")
    try:
        timing_epochs = None if args.timing_epochs is None else parse_epoch_range(args.timing_epochs)
    except ValueError as error:
        parser.error(str(error))
    keys = {run: dev_split_key(run) for run in args.runs}
    if len(set(keys.values())) > 1:
        parser.error("the runs do not share a dev split (data, dev_fraction, seed, classes): " + str(keys))
    rows = window_means([epoch_values(run, args.metric) for run in args.runs], args.window)
    print(format_table([run.name for run in args.runs], rows))
    print()
    print(format_times(args.runs, timing_epochs))


if __name__ == "__main__":
    main()
