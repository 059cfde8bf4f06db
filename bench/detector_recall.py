"""Face-detector recall and speed on the shared photos and videos; prints tables, writes JSON.

Photos: faces found vs the count by eye (``../shared/data/images/README.md``) and ms per image.
1080p crowd (``facenet_video.mp4``): faces per frame and recall of faces >= 40 px against a
reference (CenterFace at the full 1920 px), and ms per frame over consecutive frames, so that the
cascade's "thorough every N frames" rhythm is measured as it runs. ``fer_woman2.mp4``: ms per frame
of the fast passes (the replay budget).

Times exclude JPEG/video decoding. ``cpu ms`` is process CPU time (steadier than wall time on a
busy machine); ``wall ms`` is elapsed time. Both are medians.

    nice -n 10 python bench/detector_recall.py            # writes reports/detector/recall.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emostream.core.types import FaceDetection
from emostream.detector.base import FaceDetector
from emostream.detector.blazeface import BlazeFaceConfig, BlazeFaceDetector
from emostream.detector.cascade import CascadeDetector
from emostream.detector.centerface import CenterFaceConfig, CenterFaceDetector
from emostream.detector.nms import iou_one_to_many

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
# Faces counted by eye, from images/README.md; "extra_ok": real faces the count leaves out
# (obama_and_biden: "2 main (plus a partly visible child in the background)").
PHOTOS: dict[str, tuple[int, int]] = {
    "facenet_multiface.jpg": (6, 0),
    "deepface_selfie_many_people.jpg": (7, 0),
    "pyfeat_multi_face.jpg": (5, 0),
    "deepface_couple.jpg": (2, 0),
    "fr_two_people.jpg": (2, 0),
    "fr_obama_and_biden.jpg": (2, 1),
    "fer_justin.jpg": (1, 0),
    "pyfeat_single_face.jpg": (1, 0),
    "pyfeat_0-f1-su-ph.jpg": (1, 0),
}
MIN_FACE = 40  # px: the bar on 1080p frames


def detectors() -> dict[str, Callable[[], FaceDetector]]:
    """The candidates, built lazily (one session each)."""
    return {
        "blazeface-short": lambda: BlazeFaceDetector(BlazeFaceConfig(variant="short")),
        "blazeface-full": lambda: BlazeFaceDetector(BlazeFaceConfig(variant="full")),
        "blazeface-full+tiles480": lambda: BlazeFaceDetector(BlazeFaceConfig(variant="full", tile_side=480)),
        "blazeface-full+tiles640": lambda: BlazeFaceDetector(BlazeFaceConfig(variant="full", tile_side=640)),
        "centerface-640": lambda: CenterFaceDetector(CenterFaceConfig(input_long_side=640, thorough_long_side=640)),
        "centerface-960": lambda: CenterFaceDetector(CenterFaceConfig(input_long_side=960, thorough_long_side=960)),
        "cascade": CascadeDetector,
    }


@dataclass
class Timer:
    """Collects CPU and wall milliseconds of repeated calls."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)

    def run(self, det: FaceDetector, image: np.ndarray, thorough: bool) -> list[FaceDetection]:
        c, w = time.process_time(), time.perf_counter()
        out = det.detect(image, thorough=thorough)
        self.cpu.append((time.process_time() - c) * 1000)
        self.wall.append((time.perf_counter() - w) * 1000)
        return out

    def summary(self) -> dict[str, float]:
        """Medians; for a cascade the mean too, since its cost alternates between two passes."""
        return {
            "cpu_ms": round(statistics.median(self.cpu), 1),
            "cpu_ms_mean": round(statistics.fmean(self.cpu), 1),
            "wall_ms": round(statistics.median(self.wall), 1),
        }


def read_frames(path: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` frames of a video."""
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def as_boxes(faces: list[FaceDetection]) -> np.ndarray:
    return np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in faces], np.float32).reshape(-1, 4)


def match(found: list[FaceDetection], reference: list[FaceDetection]) -> tuple[int, int, int]:
    """(reference faces >= MIN_FACE px found, how many there are, detections matching no reference face)."""
    fb, rb = as_boxes(found), as_boxes(reference)
    big = [i for i, r in enumerate(reference) if r.box.width >= MIN_FACE]
    hits = sum(1 for i in big if len(fb) and iou_one_to_many(rb[i], fb).max() > 0.3)
    extra = sum(1 for b in fb if not len(rb) or iou_one_to_many(b, rb).max() <= 0.3)
    return hits, len(big), extra


def bench_photos(names: list[str], repeats: int) -> dict[str, dict]:
    images: dict[str, np.ndarray] = {n: cv2.imread(str(DATA / "images" / n)) for n in PHOTOS}  # type: ignore[misc]
    out: dict[str, dict] = {}
    for name in names:
        det = detectors()[name]()
        rows, timer = {}, Timer()
        for file, image in images.items():
            faces = det.detect(image, thorough=True)
            for _ in range(repeats):
                timer.run(det, image, True)
            want, extra_ok = PHOTOS[file]
            rows[file] = {"found": len(faces), "by_eye": want, "ok": want - 1 <= len(faces) <= want + extra_ok}
        out[name] = {"photos": rows, "passed": sum(r["ok"] for r in rows.values()), **timer.summary()}
    return out


def bench_crowd(names: list[str], frames: list[np.ndarray], every: int, rhythms: list[int]) -> dict[str, dict]:
    sample = list(range(0, len(frames), every))
    ref_det = CenterFaceDetector(CenterFaceConfig(input_long_side=1920, thorough_long_side=1920))
    reference = {i: ref_det.detect(frames[i]) for i in sample}
    out: dict[str, dict] = {"reference": {"faces_per_frame": [len(reference[i]) for i in sample]}}
    runs = [(n, 1) for n in names if n != "cascade"] + [("cascade", n) for n in rhythms]
    for name, n in runs:
        det = detectors()[name]()
        det.detect(frames[0])  # warm-up
        if isinstance(det, CascadeDetector):
            det.reset()
        timer, counts, extra = Timer(), [], 0
        hits = {True: 0, False: 0}
        total = {True: 0, False: 0}
        for i, frame in enumerate(frames):
            thorough = i % n == 0
            faces = timer.run(det, frame, thorough)
            if i in reference:
                h, t, e = match(faces, reference[i])
                hits[thorough], total[thorough], extra = hits[thorough] + h, total[thorough] + t, extra + e
                counts.append(len(faces))
        key = name if name != "cascade" else f"cascade thorough/{n}"
        out[key] = {
            "faces_per_frame": counts,
            "recall_40px": f"{hits[True] + hits[False]}/{total[True] + total[False]}",
            "recall_40px_fast_frames": f"{hits[False]}/{total[False]}",
            "extra": extra,
            **timer.summary(),
        }
    return out


def bench_small(names: list[str], frames: list[np.ndarray], rhythm: int) -> dict[str, dict]:
    out = {}
    for name in names:
        det = detectors()[name]()
        det.detect(frames[0])
        timer, counts = Timer(), []
        n = rhythm if name == "cascade" else 10**9
        for i, frame in enumerate(frames):
            thorough = name != "cascade" or i % n == 0
            counts.append(len(timer.run(det, frame, thorough)))
        key = name if name != "cascade" else f"cascade thorough/{rhythm}"
        values, freq = np.unique(counts, return_counts=True)
        out[key] = {"faces_per_frame": dict(zip(values.tolist(), freq.tolist(), strict=True)), **timer.summary()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "detector" / "recall.json")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per photo")
    parser.add_argument("--crowd-frames", type=int, default=70, help="consecutive 1080p frames timed")
    parser.add_argument("--crowd-every", type=int, default=7, help="recall on every Nth (prime to the rhythms)")
    parser.add_argument("--small-frames", type=int, default=150, help="consecutive fer_woman2 frames timed")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    names = list(detectors())
    photos = bench_photos([n for n in names if n != "blazeface-full+tiles640"], args.repeats)
    print("\nPhotos (bar: at most 1 face missed, no false positive)")
    print(f"{'detector':26s} passed  cpu ms  wall ms  found/by eye")
    for name, r in photos.items():
        found = " ".join(f"{v['found']}/{v['by_eye']}" for v in r["photos"].values())
        print(f"{name:26s} {r['passed']}/{len(PHOTOS)}  {r['cpu_ms']:7.1f} {r['wall_ms']:8.1f}  {found}")
    crowd_frames = read_frames(DATA / "videos" / "facenet_video.mp4", args.crowd_frames)
    crowd = bench_crowd(names, crowd_frames, every=args.crowd_every, rhythms=[1, 2, 3, 5])
    print(f"\n1080p crowd, {len(crowd_frames)} consecutive frames (recall of faces >= {MIN_FACE}px vs CenterFace@1920)")
    print(f"{'detector':26s} recall  (fast frames)  extra  cpu ms (mean)  wall ms  faces/frame")
    for name, r in crowd.items():
        if name != "reference":
            print(
                f"{name:26s} {r['recall_40px']:>6s} {r['recall_40px_fast_frames']:>14s} {r['extra']:6d} "
                f"{r['cpu_ms']:7.1f} {r['cpu_ms_mean']:6.1f} {r['wall_ms']:8.1f}  {r['faces_per_frame']}"
            )
    print(f"{'reference':26s} {'':6s} {'':14s} {'':6s} {'':14s} {'':8s}  {crowd['reference']['faces_per_frame']}")
    small_frames = read_frames(DATA / "videos" / "fer_woman2.mp4", args.small_frames)
    small = bench_small(["blazeface-short", "blazeface-full", "centerface-640", "cascade"], small_frames, rhythm=10)
    print(f"\nfer_woman2 596x336, {len(small_frames)} frames (fast pass; cascade with a thorough pass every 10)")
    print(f"{'detector':26s} cpu ms (mean)  wall ms  faces/frame: frames")
    for name, r in small.items():
        print(f"{name:26s} {r['cpu_ms']:6.1f} {r['cpu_ms_mean']:6.1f} {r['wall_ms']:8.1f}  {r['faces_per_frame']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"photos": photos, "crowd_1080p": crowd, "fer_woman2": small}
    args.out.write_text(json.dumps(result, indent=2, default=int))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
