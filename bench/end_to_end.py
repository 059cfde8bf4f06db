"""End to end, embedded: ``emostream replay`` vs ``fer.Video(...).analyze`` on the same files, in one run.

For ours: the whole command's wall time (a fresh process: start-up, model load, decode, detection,
classification, tracking and every output, the annotated video included) and the pipeline throughput the
command prints ("N frames, ..., X fps (Y x real time)"). For fer: the whole subprocess and its ``analyze``
call (default detector and model, annotated video on, per-frame JPEGs off; ``bench/side/fer_video.py``).
Accuracy: happy vs not happy on the labelled stretches of ``tests/data/fer_woman2_labels.json``.

    python -m bench.end_to_end [--runs 5] [--fer-runs 1]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import venvs
from bench.common import REPO, SHARED_DATA, median
from bench.replay_speed import video_seconds
from bench.table import Row

VIDEOS = {"fer_woman2.mp4": 5.0, "facenet_video.mp4": 1.0}  # target: x real time
FER_SPEEDUP_TARGET = 5.0  # on fer_woman2
LABELS = REPO / "tests" / "data" / "fer_woman2_labels.json"
SUMMARY = re.compile(r"(\d+) frames, .*?([0-9.]+) fps \(([0-9.]+)x real time\)")
FER_SCRIPT = REPO / "bench" / "side" / "fer_video.py"


def replay(video: Path, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "emostream.cli", "replay", str(video), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    match = SUMMARY.search(done.stdout)
    if match is None:
        raise RuntimeError(f"no summary line in replay's output: {done.stdout[-500:]!r}")
    return {"wall_s": wall, "frames": int(match[1]), "pipeline_fps": float(match[2])}


def fer_video(video: Path, out: Path, max_frames: int | None) -> dict[str, Any]:
    python = venvs.ensure(venvs.FER)
    argv = [str(python), str(FER_SCRIPT), str(video), str(out), *([str(max_frames)] if max_frames else [])]
    started = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True, env=venvs.quiet_env())
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    return result | {"wall_s": time.perf_counter() - started}


def labelled_frames() -> dict[int, bool]:
    spec = json.loads(LABELS.read_text())
    frames = {}
    for key, happy in (("happy", True), ("not_happy", False)):
        for first, last in spec[key]:
            frames.update({i: happy for i in range(first, last + 1)})
    return frames


def our_labels(out: Path, smoothed: bool = True) -> dict[int, str]:
    """Frame seq -> label of the largest face in ``timeline.json``: the shown (smoothed) label, or with
    ``smoothed`` false the argmax of the classifier's own probabilities on that frame (``raw``), as fer reports."""
    timeline = json.loads((out / "timeline.json").read_text())
    classes = timeline["model"]["classes"]
    best: dict[int, tuple[float, str]] = {}
    for track in timeline["tracks"]:
        for frame in track["frames"]:
            x1, y1, x2, y2 = frame["box"]
            area = (x2 - x1) * (y2 - y1)
            raw = frame["raw"]
            label = frame["label"] if smoothed else (classes[raw.index(max(raw))] if raw else "unknown")
            if area > best.get(frame["seq"], (-1.0, ""))[0]:
                best[frame["seq"]] = (area, label)
    return {seq: label for seq, (_, label) in best.items()}


def fer_labels(per_frame: list[list[dict[str, Any]]]) -> dict[int, str]:
    labels = {}
    for i, faces in enumerate(per_frame):
        if faces:
            face = max(faces, key=lambda f: f["box"][2] * f["box"][3])
            labels[i] = max(face["emotions"], key=face["emotions"].get)
    return labels


def happy_accuracy(labels: dict[int, str], truth: dict[int, bool]) -> tuple[int, int]:
    """(frames right, labelled frames seen): a frame without a face counts as wrong."""
    seen = [i for i in truth if i < max(labels, default=-1) + 1] if labels else []
    return sum((labels.get(i) == "happy") == truth[i] and i in labels for i in seen), len(seen)


def share(right: int, seen: int) -> str:
    return f"{right}/{seen} ({right / seen:.0%})" if seen else "n/a (no labelled frame analysed)"


def rows(quick: bool, runs: int | None = None, fer_runs: int | None = None) -> list[Row]:
    runs, fer_runs = runs or (1 if quick else 5), fer_runs or 1
    fer_max = 10 if quick else None
    out_rows: list[Row] = []
    command = f"python -m bench.end_to_end --runs {runs} --fer-runs {fer_runs}"
    truth = labelled_frames()
    for name, target in VIDEOS.items():
        video = SHARED_DATA / "videos" / name
        duration, fps = video_seconds(video), None
        ours, theirs = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(runs):
                ours.append(replay(video, Path(tmp) / f"ours{i}"))
            for i in range(fer_runs):
                theirs.append(fer_video(video, Path(tmp) / f"fer{i}", fer_max))
            accuracy = (
                {
                    "ours": happy_accuracy(our_labels(Path(tmp) / "ours0"), truth),
                    "ours_raw": happy_accuracy(our_labels(Path(tmp) / "ours0", smoothed=False), truth),
                    "fer": happy_accuracy(fer_labels(theirs[0]["per_frame"]), truth),
                }
                if name == "fer_woman2.mp4"
                else {}
            )
        frames = ours[0]["frames"]
        fps = frames / duration
        wall_x = duration / median([r["wall_s"] for r in ours])
        pipe_x = median([r["pipeline_fps"] for r in ours]) / fps
        fer_frames = theirs[0]["frames"]
        fer_analyze_x = fer_frames / median([r["analyze_s"] for r in theirs]) / fps
        fer_wall_x = fer_frames / median([r["wall_s"] for r in theirs]) / fps
        out_rows.append(
            Row(
                "end to end",
                f"emostream replay {name}: whole command",
                f"≥ {target:g}x real time",
                f"{wall_x:.2f}x real time (median of {runs} × {median([r['wall_s'] for r in ours]):.1f} s)",
                wall_x >= target,
                command,
                {"runs": ours, "video_s": duration},
            )
        )
        out_rows.append(
            Row(
                "end to end",
                f"emostream replay {name}: pipeline (its summary line)",
                "",
                f"{pipe_x:.2f}x real time ({median([r['pipeline_fps'] for r in ours]):.1f} fps)",
                None,
                command,
                {},
            )
        )
        out_rows.append(
            Row(
                "end to end",
                f"fer Video.analyze {name}",
                "",
                f"analyze {fer_analyze_x:.2f}x real time, whole process {fer_wall_x:.2f}x "
                f"({fer_frames} frames, median of {fer_runs})",
                None,
                command,
                {"runs": [{k: v for k, v in r.items() if k != "per_frame"} for r in theirs]},
            )
        )
        if name == "fer_woman2.mp4":
            whole = fer_frames >= frames  # fer truncated (--quick): its start-up would swamp a whole-command ratio
            speedup = wall_x / fer_wall_x if whole else pipe_x / fer_analyze_x
            out_rows.append(
                Row(
                    "end to end",
                    "emostream / fer on fer_woman2 " + ("(whole commands)" if whole else "(pipeline / analyze)"),
                    f"≥ {FER_SPEEDUP_TARGET:g}x",
                    f"{speedup:.2f}x (whole commands {wall_x / fer_wall_x:.2f}x, pipeline / "
                    f"analyze {pipe_x / fer_analyze_x:.2f}x)",
                    speedup >= FER_SPEEDUP_TARGET,
                    command,
                    {"speedup": speedup},
                )
            )
            (ok, n), (rok, rn), (fok, fn) = accuracy["ours"], accuracy["ours_raw"], accuracy["fer"]
            out_rows.append(
                Row(
                    "end to end",
                    "happy vs not happy, labelled frames of fer_woman2",
                    "",
                    f"emostream {share(ok, n)} shown (smoothed), {share(rok, rn)} per frame (unsmoothed); "
                    f"fer {share(fok, fn)} (per frame)",
                    None,
                    command,
                    {"ours": [ok, n], "ours_raw": [rok, rn], "fer": [fok, fn]},
                )
            )
    return out_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fer-runs", type=int, default=1)
    args = parser.parse_args()
    for row in rows(False, args.runs, args.fer_runs):
        print(row.name, "|", row.measured, row.verdict())


if __name__ == "__main__":
    main()
