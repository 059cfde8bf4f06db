"""``fer.Video(...).analyze`` on one video, with fer's default detector and model; prints one JSON line.

    bench/.cache/venv-fer/bin/python bench/side/fer_video.py VIDEO OUTDIR [MAX_FRAMES]


fer writes its annotated
video (``save_video``, its default) and a CSV; saving every frame as a JPEG and zipping them is turned off,
so that both sides write one annotated video. Each ``detect_emotions`` call (one per frame, ``batch_size=1``)
is recorded, so that per-frame labels can be compared with ours.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
started = time.perf_counter()
logging.disable(logging.WARNING)

import cv2  # noqa: E402
from fer.classes import Video  # noqa: E402
from fer.fer import FER  # noqa: E402

# fer calls cv2.waitKey per frame and destroyAllWindows at the end even with display=False; the headless
# OpenCV wheel (no GUI libraries here) raises on both, so they become the no-ops they are without a window.
cv2.waitKey = lambda *_: -1
cv2.destroyAllWindows = lambda: None


def main() -> None:
    video_path, outdir = sys.argv[1], sys.argv[2]
    max_results = int(sys.argv[3]) if len(sys.argv) > 3 else None
    detector = FER()  # its defaults: Haar cascade (scale 1.1, 5 neighbours, min 50 px), TFLite mini-Xception
    per_frame: list[list[dict]] = []
    original = detector.detect_emotions

    def recorded(img, face_rectangles=None):  # type: ignore[no-untyped-def]
        faces = original(img, face_rectangles)
        per_frame.append([{"box": [int(v) for v in f["box"]], "emotions": f["emotions"]} for f in faces])
        return faces

    detector.detect_emotions = recorded
    loaded = time.perf_counter()
    video_path, outdir = os.path.abspath(video_path), os.path.abspath(outdir)
    os.makedirs(outdir, exist_ok=True)
    os.chdir(outdir)  # analyze() writes data.csv into the working directory
    video = Video(video_path, outdir=outdir)
    video.analyze(detector, display=False, save_frames=False, zip_images=False, max_results=max_results)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "frames": len(per_frame),
                "import_and_load_s": loaded - started,
                "analyze_s": done - loaded,
                "per_frame": per_frame,
            }
        )
    )


if __name__ == "__main__":
    main()
