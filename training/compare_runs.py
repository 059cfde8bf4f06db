"""Compare training runs epoch by epoch on their dev accuracy (``history.csv``'s ``val_acc``), a window at a time.

    python -m training.compare_runs training/checkpoints/emonet-v3 training/checkpoints/emonet-v4

One row per window of ``--window`` epochs that every run has finished: each run's mean dev accuracy over it and
its difference from the first run's. Single epochs swing by a point or more on a dev split of 2,879 faces, so a
run in progress is judged on windows, not on its last epoch. Meant for runs that share a dev split (the same
data, ``dev_fraction`` and ``seed`` in their ``config.json``); it refuses others.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def dev_accuracies(run_dir: Path) -> list[float]:
    """``val_acc`` of each finished epoch of the run, in order."""
    with (run_dir / "history.csv").open() as handle:
        return [float(row["val_acc"]) for row in csv.DictReader(handle) if row.get("val_acc")]


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="run folders (history.csv, config.json)")
    parser.add_argument("--window", type=int, default=10, help="epochs a row averages")
    args = parser.parse_args(argv)
    if args.window < 1:
        parser.error("--window must be at least 1")
    keys = {run: dev_split_key(run) for run in args.runs}
    if len(set(keys.values())) > 1:
        parser.error("the runs do not share a dev split (data, dev_fraction, seed, classes): " + str(keys))
    rows = window_means([dev_accuracies(run) for run in args.runs], args.window)
    print(format_table([run.name for run in args.runs], rows))


if __name__ == "__main__":
    main()
