"""Face detectors: ms/frame at 360p, 720p and 1080p (consecutive frames of ``facenet_video.mp4``, resized) and
faces found on ``../shared/data/images`` (counts by eye from its README), for our cascade detector (on its
default rhythm: thorough every N frames, so the mean over consecutive frames), OpenCV's Haar cascade and
``fer``'s default detector (both run in their side venvs, ``bench/venvs.py``).

    python -m bench.detector_speed [--frames 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time

import cv2
import numpy as np

from bench import venvs
from bench.common import REPO, SHARED_DATA
from bench.detector_recall import PHOTOS
from bench.table import Row

HEIGHTS = (360, 720, 1080)
VIDEO = SHARED_DATA / "videos" / "facenet_video.mp4"
PHOTO_DIR = SHARED_DATA / "images"
SIDE_SCRIPT = REPO / "bench" / "side" / "haar_detect.py"
COMMAND = "python -m bench.detector_speed"


def read_frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(VIDEO))
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def ours(frames: int) -> dict:
    """Our detector as the pipeline builds it, each frame's thorough flag from the stage's default rhythm."""
    from emostream.components import PipelineSettings, build_stage

    stage = build_stage(PipelineSettings())
    detector = stage.detector
    source = read_frames(frames)
    speed = {}
    for height in HEIGHTS:
        width = round(source[0].shape[1] * height / source[0].shape[0] / 2) * 2
        resized = [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in source]
        every = stage.rhythm(resized[0].shape[:2])
        detector.detect(resized[0], thorough=True)
        reset = getattr(detector, "reset", None)
        if reset is not None:
            reset()
        ms, faces = [], []
        for i, frame in enumerate(resized):
            started = time.perf_counter()
            faces.append(len(detector.detect(frame, thorough=i % every == 0)))
            ms.append((time.perf_counter() - started) * 1000)
        speed[str(height)] = {"ms": ms, "faces": faces, "width": width, "thorough_every": every}
    photos = {name: len(detector.detect(cv2.imread(str(PHOTO_DIR / name)), thorough=True)) for name in PHOTOS}
    return {"speed": speed, "photos": photos}


def side(mode: str, frames: int) -> dict:
    python = venvs.ensure(venvs.HAAR if mode == "haar" else venvs.FER)
    heights = [str(h) for h in HEIGHTS]
    done = subprocess.run(
        [str(python), str(SIDE_SCRIPT), mode, str(VIDEO), str(frames), str(PHOTO_DIR), *heights],
        check=True,
        capture_output=True,
        text=True,
        env=venvs.quiet_env(),
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def photo_score(found: dict[str, int]) -> tuple[int, int, str]:
    """(photos within the bar: at most one face missed and none extra, photos, found/by-eye per photo)."""
    ok = 0
    for name, (by_eye, extra_ok) in PHOTOS.items():
        ok += by_eye - 1 <= found.get(name, 0) <= by_eye + extra_ok
    detail = " ".join(f"{found.get(name, 0)}/{by_eye}" for name, (by_eye, _) in PHOTOS.items())
    return ok, len(PHOTOS), detail


def rows(quick: bool, frames: int | None = None) -> list[Row]:
    frames = frames or (5 if quick else 30)  # 30: a whole number of thorough rhythms (5 on >960 px, 30 below)
    side_frames = max(2, frames // 3)  # the Haar contenders are 5-20x slower; fewer frames bound the run time
    results = {
        "emostream cascade": ours(frames),
        "OpenCV Haar": side("haar", side_frames),
        "fer default (Haar)": side("fer", side_frames),
    }
    out: list[Row] = []
    base = {str(h): statistics.fmean(results["emostream cascade"]["speed"][str(h)]["ms"]) for h in HEIGHTS}
    for name, result in results.items():
        for height in HEIGHTS:
            item = result["speed"][str(height)]
            mean = statistics.fmean(item["ms"])
            ratio = mean / base[str(height)]
            measured = (
                f"{mean:.1f} ms/frame (mean of {len(item['ms'])}), faces/frame {statistics.median(item['faces'])}"
            )
            if name != "emostream cascade":
                measured += f"; {ratio:.1f}x our time"
            out.append(
                Row(
                    "detector",
                    f"{name} @ {height}p",
                    "",
                    measured,
                    None,
                    COMMAND,
                    {"ms": item["ms"], "faces": item["faces"], "ratio_vs_ours": ratio},
                )
            )
        ok, total, detail = photo_score(result["photos"])
        target = "≤ 1 face missed, none extra, every photo" if name == "emostream cascade" else ""
        passed = (ok == total) if name == "emostream cascade" else None
        out.append(
            Row(
                "detector",
                f"{name}: photos (found/by eye)",
                target,
                f"{ok}/{total} photos within bar; {detail}",
                passed,
                COMMAND,
                {"photos": result["photos"]},
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    for row in rows(False, args.frames):
        print(row.name, "|", row.measured)


if __name__ == "__main__":
    main()
