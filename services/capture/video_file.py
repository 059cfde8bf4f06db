"""Recorded video: every frame, in order, with the video's own timestamps. Nothing is dropped.

Corrupt frames in the middle are skipped and counted; the reader goes on with the rest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emostream.core.errors import SourceError
from emostream.core.types import Frame, FrameMeta

MAX_CONSECUTIVE_FAILURES = 25  # this many failed reads in a row: the file ends here, whatever its header says


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    frame_count: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0


@dataclass
class ReadStats:
    frames_read: int = 0
    frames_corrupt: int = 0


def probe(path: Path) -> VideoInfo:
    """Open ``path`` and describe it, or raise :class:`SourceError` naming the problem."""
    capture = _open(path)
    try:
        return _info(path, capture)
    finally:
        capture.release()


def _open(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if not path.is_file():
        raise SourceError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: empty file (0 bytes)")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise SourceError(f"{path}: not a readable video (no decoder could open it)")
    return capture


def _info(path: Path, capture: cv2.VideoCapture) -> VideoInfo:
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 0.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    if width <= 0 or height <= 0:
        raise SourceError(f"{path}: no video stream")
    return VideoInfo(str(path), fps if 0 < fps < 1000 else 30.0, max(count, 0), width, height)


class VideoFileReader:
    """Iterates over a video file's frames. Use as a context manager.

    >>> with VideoFileReader(Path("clip.mp4"), camera="clip") as reader:  # doctest: +SKIP
    ...     for frame in reader:
    ...         print(frame.meta.seq, frame.meta.pts)
    """

    def __init__(self, path: Path, camera: str = "video") -> None:
        self.path = path
        self.camera = camera
        self._capture = _open(path)
        self.info = _info(path, self._capture)
        self.stats = ReadStats()

    def __enter__(self) -> VideoFileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._capture.release()

    def __iter__(self) -> Iterator[Frame]:
        """Frames in decode order. ``seq`` is the frame's index in the video: when the decoder drops
        corrupt frames, the gap in the timestamps advances ``seq`` and counts them as corrupt."""
        seq = 0
        failures = 0
        fps = self.info.fps
        first_pts: float | None = None
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                failures += 1
                if seq >= self.info.frame_count or failures > MAX_CONSECUTIVE_FAILURES:
                    break
                self.stats.frames_corrupt += 1
                seq += 1
                continue
            failures = 0
            pts = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            first_pts = pts if first_pts is None else first_pts
            position = round((pts - first_pts) * fps)
            if position > seq:  # the decoder skipped frames it could not decode
                self.stats.frames_corrupt += position - seq
                seq = position
            meta = FrameMeta(self.camera, seq, round(pts, 6), time.time(), image.shape[1], image.shape[0])
            self.stats.frames_read += 1
            yield Frame(meta, np.ascontiguousarray(image))
            seq += 1
        if self.stats.frames_read == 0:
            raise SourceError(f"{self.path}: no frame could be decoded")
