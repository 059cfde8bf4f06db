"""Live capture into a (fake) Redis: JPEG frames, metrics synced from the source, drops with their reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import fakeredis
import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from emostream.capture.metrics import CaptureMetrics
from emostream.capture.service import REDIS_UNAVAILABLE, LiveCamera
from emostream.capture.settings import CaptureSettings
from emostream.core.health import Health
from emostream.transport.codec import ImageEncoding, decode_frame
from emostream.transport.keys import frames_stream


class FakeCamera:
    """``frames`` small frames, ``delay`` s apart, then a dropped connection."""

    def __init__(self, frames: int, delay: float = 0.002) -> None:
        self.remaining, self.delay = frames, delay

    def isOpened(self) -> bool:
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.remaining <= 0:
            return False, None
        time.sleep(self.delay)
        self.remaining -= 1
        return True, np.full((24, 32, 3), 100, np.uint8)

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        pass


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _settings(**overrides: object) -> CaptureSettings:
    base: dict[str, object] = {"camera": "cam1", "source": "0", "metrics_port": None, "stall_timeout_s": 0.2,
                               "backoff_initial_s": 0.01, "backoff_max_s": 0.02, "maxlen": 10}  # fmt: skip
    return CaptureSettings(**(base | overrides))


def _sample(metrics: CaptureMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def _run(camera: LiveCamera) -> threading.Thread:
    thread = threading.Thread(target=camera.run, daemon=True)
    thread.start()
    return thread


def test_live_frames_go_out_as_jpeg_and_the_source_reconnects() -> None:
    client, metrics, health = fakeredis.FakeRedis(), CaptureMetrics(CollectorRegistry()), Health()
    camera = LiveCamera(client, "cam1", "0", _settings(), metrics, health, open_capture=lambda _: FakeCamera(5))
    thread = _run(camera)
    wait_for(lambda: camera.source.stats.reconnects >= 1 and client.xlen(frames_stream("cam1")) >= 6)
    camera.stop()
    thread.join(5)
    camera.sync_metrics()
    published = client.xlen(frames_stream("cam1"))
    captured = _sample(metrics, "emostream_frames_captured_total", camera="cam1")
    slow = _sample(metrics, "emostream_frames_dropped_total", camera="cam1", reason="consumer_slow")
    assert captured >= published and published + slow <= captured
    assert _sample(metrics, "emostream_source_reconnects_total", camera="cam1") >= 1
    message = decode_frame(client.xrange(frames_stream("cam1"), count=1)[0][1])
    assert message.encoding == ImageEncoding.JPEG and (message.width, message.height) == (32, 24)
    assert message.live, "newest frame wins: the detector may skip it"
    assert health.checks["redis"].ok


def test_redis_away_drops_are_counted_and_health_fails() -> None:
    server = fakeredis.FakeServer()
    client, metrics, health = fakeredis.FakeRedis(server=server), CaptureMetrics(CollectorRegistry()), Health()
    server.connected = False
    camera = LiveCamera(client, "cam1", "0", _settings(), metrics, health, open_capture=lambda _: FakeCamera(50))
    thread = _run(camera)
    wait_for(lambda: _sample(metrics, "emostream_frames_dropped_total", camera="cam1", reason=REDIS_UNAVAILABLE) >= 3)
    assert not health.checks["redis"].ok
    server.connected = True
    wait_for(lambda: client.xlen(frames_stream("cam1")) >= 1)
    camera.stop()
    thread.join(5)
    assert health.checks["redis"].ok


def test_a_stalled_source_is_reported_down() -> None:
    client, metrics, health = fakeredis.FakeRedis(), CaptureMetrics(CollectorRegistry()), Health()
    camera = LiveCamera(client, "cam1", "0", _settings(stall_timeout_s=0.1), metrics, health,
                        open_capture=lambda _: FakeCamera(3))  # fmt: skip
    thread = _run(camera)
    wait_for(lambda: client.xlen(frames_stream("cam1")) >= 1)
    camera.sync_metrics()
    assert _sample(metrics, "emostream_source_up", camera="cam1") == 1
    camera.source.stop()  # no more frames: past the stall timeout the source is down
    thread.join(5)

    def reported_down() -> bool:
        camera.sync_metrics()
        return _sample(metrics, "emostream_source_up", camera="cam1") == 0

    wait_for(reported_down, timeout=5)
    assert not health.checks["source:cam1"].ok


def test_a_file_played_live_ends_with_an_end_of_stream_entry(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 24))
    for _ in range(4):
        writer.write(np.full((24, 32, 3), 50, np.uint8))
    writer.release()
    client, metrics = fakeredis.FakeRedis(), CaptureMetrics(CollectorRegistry())
    camera = LiveCamera(client, "cam1", str(path), _settings(source=str(path), pace_files=False), metrics, Health())
    thread = _run(camera)
    thread.join(10)
    assert not thread.is_alive()
    messages = [decode_frame(fields) for _, fields in client.xrange(frames_stream("cam1"))]
    assert messages[-1].end_of_stream and messages[-1].seq == messages[-2].seq + 1


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"source": ""}, "no source"),
        ({"camera": "bad name"}, "camera name"),
        ({"redis_password": "x", "redis_password_file": "/tmp/x"}, "not both"),
        ({"unknown_option": 1}, "Extra inputs"),
    ],
)
def test_settings_refuse_what_cannot_work(overrides: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        _settings(**overrides)


def test_settings_modes_and_redaction(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    settings = _settings(source="rtsp://user:secret@cam/live", cameras={"door": str(clip)})
    assert settings.sources() == {"cam1": "rtsp://user:secret@cam/live", "door": str(clip)}
    assert settings.mode_of(str(clip)) == "replay" and settings.mode_of("rtsp://cam/x") == "live"
    assert "secret" not in settings.describe()
