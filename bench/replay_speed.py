"""``emostream replay`` throughput as a multiple of real time: median of N runs per video.

    python -m bench.replay_speed [--runs 3] [--videos fer_woman2.mp4 facenet_video.mp4]

Each run is the whole command in a fresh process (start-up, model load, decode, detection,
classification, tracking and every output file, the annotated video included), timed from outside.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from bench.common import SHARED_DATA, median, write_result

TARGETS = {"fer_woman2.mp4": 5.0, "facenet_video.mp4": 1.0}


def video_seconds(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames / fps


def time_replay(video: Path, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "emostream.cli", "replay", str(video), "--out", out, "--quiet", *extra],
                       check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - started


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
        seconds = [time_replay(video, args.extra) for _ in range(args.runs)]
        row = {
            "video": name,
            "video_seconds": round(duration, 3),
            "runs_seconds": [round(s, 3) for s in seconds],
            "median_seconds": round(median(seconds), 3),
            "x_real_time": round(duration / median(seconds), 2),
            "target_x_real_time": TARGETS.get(name),
            "command": f"emostream replay {name} --out DIR --quiet {' '.join(args.extra)}".strip(),
        }
        rows.append(row)
        print(f"{name}: {row['x_real_time']}x real time (median of {args.runs}: {row['median_seconds']} s)")
    print(write_result("replay_speed", {"rows": rows}))


if __name__ == "__main__":
    main()
