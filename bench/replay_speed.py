"""``emostream replay`` throughput as a multiple of real time: median of N runs per video.

    python -m bench.replay_speed [--runs 3] [--videos fer_woman2.mp4 facenet_video.mp4]

Each run is the whole command in a fresh process (start-up, model load, decode, detection,
classification, tracking and every output file, the annotated video included), timed from outside.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from bench.common import SHARED_DATA, median, write_result

TARGETS = {"fer_woman2.mp4": 5.0, "facenet_video.mp4": 1.0}


def frame_rate(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    capture.release()
    return fps


def video_seconds(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames / fps


SUMMARY = re.compile(r"(\d+) frames, .*?([\d.]+) fps \(")


def time_replay(video: Path, extra: list[str]) -> tuple[float, float]:
    """(whole command's wall seconds, the pipeline's own frames/s as the command prints it)."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "emostream.cli", "replay", str(video), "--out", out, "--quiet", *extra],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
    match = SUMMARY.search(done.stdout)
    if match is None:
        raise RuntimeError(f"no summary line in replay's output: {done.stdout!r}")
    return wall, float(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--videos", nargs="+", default=list(TARGETS))
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="arguments passed to replay")
    args = parser.parse_args()
    rows = []
    for name in args.videos:
        video = SHARED_DATA / "videos" / name
        duration = video_seconds(video)
        runs = [time_replay(video, args.extra) for _ in range(args.runs)]
        seconds = [wall for wall, _ in runs]
        fps = median([rate for _, rate in runs])
        frames_per_second_of_video = frame_rate(video)
        row = {
            "video": name,
            "video_seconds": round(duration, 3),
            "runs_seconds": [round(s, 3) for s in seconds],
            "median_seconds": round(median(seconds), 3),
            "x_real_time": round(duration / median(seconds), 2),
            "pipeline_fps_runs": [round(rate, 1) for _, rate in runs],
            "pipeline_x_real_time": round(fps / frames_per_second_of_video, 2),
            "target_x_real_time": TARGETS.get(name),
            "meaning": "x_real_time: the whole command (start-up, model loads, every output file) against the "
            "video's length; pipeline_x_real_time: frames processed per second (decode to tracking) against the "
            "video's frame rate, as the command prints it. The target applies to the throughput.",
            "command": f"emostream replay {name} --out DIR --quiet {' '.join(args.extra)}".strip(),
        }
        rows.append(row)
        print(f"{name}: pipeline {row['pipeline_x_real_time']}x real time, whole command {row['x_real_time']}x "
              f"(medians of {args.runs}; whole command {row['median_seconds']} s)")  # fmt: skip
    print(write_result("replay_speed", {"rows": rows}))


if __name__ == "__main__":
    main()
