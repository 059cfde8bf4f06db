"""LiveSource with a fake camera: newest frame wins, drops are counted, outages reconnect."""

from __future__ import annotations

import time

import cv2
import numpy as np

from emostream.capture.live import LiveConfig, LiveSource, SourceState, parse_source


class FakeCamera:
    """Yields ``frames`` frames (each ``delay`` s apart), then fails like a dropped connection."""

    def __init__(self, frames: int, opened: bool = True, delay: float = 0.0) -> None:
        self.remaining, self.opened, self.delay, self.released = frames, opened, delay, False

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.remaining <= 0:
            return False, None
        time.sleep(self.delay)
        self.remaining -= 1
        return True, np.zeros((4, 6, 3), np.uint8)

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.released = True


FAST = LiveConfig(stall_timeout_s=0.05, backoff_initial_s=0.01, backoff_max_s=0.02, max_reconnects=2)


def test_parse_source() -> None:
    assert parse_source("0") == 0
    assert parse_source("rtsp://cam/x") == "rtsp://cam/x"


def test_reconnects_after_a_failed_open_and_a_dropped_stream() -> None:
    cameras = [FakeCamera(0, opened=False), FakeCamera(3, delay=0.01), FakeCamera(2, delay=0.01)]
    opened: list[FakeCamera] = []

    def open_capture(source: int | str) -> FakeCamera:
        camera = cameras.pop(0) if cameras else FakeCamera(0, opened=False)
        opened.append(camera)
        return camera

    source = LiveSource(0, camera="cam", config=FAST, open_capture=open_capture)  # type: ignore[arg-type]
    frames = list(source)  # ends by itself after max_reconnects
    assert source.state == SourceState.STOPPED
    assert source.stats.reconnects == 2
    assert 1 <= len(frames) <= 5
    assert [f.meta.seq for f in frames] == sorted(f.meta.seq for f in frames)
    assert all(camera.released for camera in opened)


def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted() -> None:
    camera = FakeCamera(40, delay=0.002)
    source = LiveSource(0, config=FAST, open_capture=lambda _: camera).start()  # type: ignore[arg-type,return-value]
    delivered = []
    for frame in source:
        delivered.append(frame.meta.seq)
        time.sleep(0.02)  # a consumer 10x slower than the camera
    assert source.stats.frames_captured == 40
    assert source.stats.drops.get("consumer_slow", 0) > 0
    assert len(delivered) + source.stats.drops["consumer_slow"] == 40
    assert delivered == sorted(delivered)


def test_stop_ends_iteration_promptly() -> None:
    camera = FakeCamera(10_000, delay=0.001)
    source = LiveSource(0, config=FAST, open_capture=lambda _: camera).start()  # type: ignore[arg-type,return-value]
    started = time.monotonic()
    for count, _ in enumerate(source):
        if count == 3:
            source.stop()
    assert time.monotonic() - started < 5
    assert source.state == SourceState.STOPPED
