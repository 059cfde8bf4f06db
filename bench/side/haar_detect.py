"""OpenCV's Haar cascade (or ``fer``'s default detector, the same cascade with fer's parameters): ms/frame
on resized video frames and faces found per photo; prints one JSON line.

    bench/.cache/venv-haar/bin/python bench/side/haar_detect.py haar VIDEO FRAMES PHOTO_DIR 360 720 1080
    bench/.cache/venv-fer/bin/python bench/side/haar_detect.py fer VIDEO FRAMES PHOTO_DIR 360 720 1080

``haar``: ``haarcascade_frontalface_default.xml`` from ``cv2.data`` (opencv-python-headless<5), the usual
hand-rolled loop: grey, ``detectMultiScale(scaleFactor=1.1, minNeighbors=5, minSize=24)`` on the whole frame.
``fer``: ``fer.FER().find_faces`` (its defaults: the same cascade, 1.1, 5, minSize 50, on the grey frame).
Times exclude decoding and resizing; the frame is BGR, as a video reader gives it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def haar() -> Callable[[np.ndarray], int]:
    xml = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(xml)  # type: ignore[attr-defined]  # (OpenCV < 5, in venv-haar)

    def detect(frame: np.ndarray) -> int:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return len(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)))

    return detect


def fer_default() -> Callable[[np.ndarray], int]:
    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from fer.fer import FER

    detector = FER()
    return lambda frame: len(detector.find_faces(frame, bgr=True))


def frames_of(video: str, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(video)
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def main() -> None:
    mode, video, count, photo_dir, *heights = sys.argv[1:]
    cv2.setNumThreads(1)
    detect = {"haar": haar, "fer": fer_default}[mode]()
    frames = frames_of(video, int(count))
    speed = {}
    for height in map(int, heights):
        width = round(frames[0].shape[1] * height / frames[0].shape[0] / 2) * 2
        resized = [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames]
        detect(resized[0])
        ms, faces = [], []
        for frame in resized:
            started = time.perf_counter()
            faces.append(detect(frame))
            ms.append((time.perf_counter() - started) * 1000)
        speed[str(height)] = {"ms": ms, "faces": faces, "width": width}
    photos = {}
    for path in sorted(Path(photo_dir).iterdir()):
        if path.suffix.lower() in PHOTO_SUFFIXES:
            image = cv2.imread(str(path))
            if image is not None:
                photos[path.name] = detect(image)
    print(json.dumps({"mode": mode, "opencv": cv2.__version__, "speed": speed, "photos": photos}))


if __name__ == "__main__":
    main()
