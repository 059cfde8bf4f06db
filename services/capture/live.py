"""Live sources (webcam, RTSP, HTTP, or a file played at its own speed): newest frame wins.

A reader thread keeps only the latest frame; a consumer slower than the camera loses old frames,
never latency, and every drop is counted. The source is a small state machine that reconnects
with exponential backoff when the camera drops out or stalls (watchdog).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

from emostream.capture.drops import DropReason
from emostream.core.redact import redact_url
from emostream.core.types import Frame, FrameMeta

log = logging.getLogger(__name__)


class SourceState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


_ALLOWED = {
    SourceState.CONNECTING: {SourceState.STREAMING, SourceState.RECONNECTING, SourceState.STOPPED},
    SourceState.STREAMING: {SourceState.RECONNECTING, SourceState.STOPPED},
    SourceState.RECONNECTING: {SourceState.CONNECTING, SourceState.STOPPED},
    SourceState.STOPPED: set(),
}


@dataclass(frozen=True)
class LiveConfig:
    stall_timeout_s: float = 5.0  # watchdog: no frame for this long means the source is stuck
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 15.0
    max_reconnects: int = -1  # -1: forever
    pace_files: bool = True  # a file opened as a live source plays at its own fps
    assumed_fps: float = 25.0  # annotated video rate of a live source when its frames' rate cannot be measured


@dataclass
class LiveStats:
    frames_captured: int = 0
    frames_delivered: int = 0
    drops: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0

    def drop(self, reason: str) -> None:
        key = str(reason)  # a DropReason's value: plain strings in what users see
        self.drops[key] = self.drops.get(key, 0) + 1


def parse_source(spec: str) -> int | str:
    """A webcam index (``"0"``), a URL, or a file path."""
    if spec.isdigit():
        return int(spec)
    return spec


OpenCapture = Callable[[int | str], cv2.VideoCapture]


def _open_capture(source: int | str) -> cv2.VideoCapture:
    if isinstance(source, int):
        return cv2.VideoCapture(source)
    return cv2.VideoCapture(source, cv2.CAP_FFMPEG)


class LiveSource:
    """Newest-frame-wins reader for one camera. Iterate to get frames; ``stop()`` ends it."""

    def __init__(
        self,
        source: int | str,
        camera: str = "live",
        config: LiveConfig | None = None,
        open_capture: OpenCapture = _open_capture,
    ) -> None:
        self.source = source
        self.camera = camera
        self.config = config or LiveConfig()
        self.stats = LiveStats()
        self.state = SourceState.CONNECTING
        self.name = redact_url(str(source))
        self._open = open_capture
        self._stop = threading.Event()
        self._new_frame = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._started_at = time.time()
        self._thread = threading.Thread(target=self._run, name=f"capture-{camera}", daemon=True)
        self._is_file = isinstance(source, str) and Path(source).is_file()

    def start(self) -> LiveSource:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._new_frame:
            self._new_frame.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _transition(self, state: SourceState) -> None:
        if state == self.state:
            return
        if state not in _ALLOWED[self.state]:
            raise RuntimeError(f"capture {self.name}: illegal transition {self.state.value} -> {state.value}")
        log.info("source=%s camera=%s state=%s", self.name, self.camera, state.value)
        self.state = state

    def _run(self) -> None:
        backoff = self.config.backoff_initial_s
        while not self._stop.is_set():
            capture = self._open(self.source)
            if capture.isOpened():
                self._transition(SourceState.STREAMING)
                backoff = self.config.backoff_initial_s
                self._read_until_failure(capture)
            capture.release()
            if self._stop.is_set() or (self._is_file and self.state == SourceState.STREAMING):
                break
            if 0 <= self.config.max_reconnects <= self.stats.reconnects:
                log.error("source=%s gave up after %d reconnects", self.name, self.stats.reconnects)
                break
            self._transition(SourceState.RECONNECTING)
            delay = min(backoff, self.config.backoff_max_s) * random.uniform(0.8, 1.2)
            log.warning("source=%s unavailable; reconnecting in %.1fs", self.name, delay)
            if self._stop.wait(delay):
                break
            backoff *= 2
            self.stats.reconnects += 1
            self._transition(SourceState.CONNECTING)
        self._transition(SourceState.STOPPED)
        with self._new_frame:
            self._new_frame.notify_all()

    def _read_until_failure(self, capture: cv2.VideoCapture) -> None:
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        started = time.monotonic()
        first_pts: float | None = None
        last_frame_at = time.monotonic()
        while not self._stop.is_set():
            ok, image = capture.read()
            now = time.monotonic()
            if not ok or image is None:
                if now - last_frame_at > self.config.stall_timeout_s or self._is_file:
                    return
                self.stats.drop(DropReason.READ_FAILED)
                continue
            last_frame_at = now
            pts = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if self._is_file and self.config.pace_files:
                first_pts = pts if first_pts is None else first_pts
                wait = (pts - first_pts) - (now - started)
                if wait > 0 and self._stop.wait(wait):
                    return
            self._publish(image, pts if pts > 0 else self._seq / fps)

    def _publish(self, image: np.ndarray, pts: float) -> None:
        meta = FrameMeta(self.camera, self._seq, round(pts, 6), time.time(), image.shape[1], image.shape[0])
        self._seq += 1
        self.stats.frames_captured += 1
        with self._new_frame:
            if self._latest is not None:
                self.stats.drop(DropReason.CONSUMER_SLOW)
            self._latest = Frame(meta, image)
            self._new_frame.notify()

    def __iter__(self) -> Iterator[Frame]:
        if not self._thread.is_alive() and self.state == SourceState.CONNECTING:
            self.start()
        while True:
            with self._new_frame:
                while self._latest is None and self.state != SourceState.STOPPED and not self._stop.is_set():
                    self._new_frame.wait(timeout=0.5)
                frame, self._latest = self._latest, None
            if frame is None:
                return
            self.stats.frames_delivered += 1
            yield frame
