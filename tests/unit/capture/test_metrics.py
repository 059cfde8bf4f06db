"""Capture's counters exist at 0 from the start: Prometheus sees the first drop as an increase."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from emostream.capture import service as capture_service
from emostream.capture.drops import DropReason
from emostream.capture.metrics import CaptureMetrics
from emostream.capture.service import CaptureService
from emostream.capture.settings import CaptureSettings


def _value(metrics: CaptureMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_every_drop_reason_of_every_camera_starts_at_zero() -> None:
    metrics = CaptureMetrics(CollectorRegistry())
    metrics.start_cameras(["door", "hall"])
    for camera in ("door", "hall"):
        for reason in DropReason:
            assert _value(metrics, "emostream_frames_dropped_total", camera=camera, reason=reason.value) == 0.0
        assert _value(metrics, "emostream_frames_captured_total", camera=camera) == 0.0
        assert _value(metrics, "emostream_source_reconnects_total", camera=camera) == 0.0
    metrics.drop("door", DropReason.STREAM_FULL, 2)
    assert _value(metrics, "emostream_frames_dropped_total", camera="door", reason="stream_full") == 2.0


class IdleCamera:
    """Stands in for LiveCamera: no source opened, nothing published."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def run(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def sync_metrics(self) -> None:
        pass


def test_capture_start_exports_the_drop_counters_of_each_configured_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture_service, "LiveCamera", IdleCamera)
    settings = CaptureSettings(camera="door", source="0", cameras={"hall": "rtsp://user:pw@hall/live"},
                               metrics_port=None)  # fmt: skip
    metrics = CaptureMetrics(CollectorRegistry())
    service = CaptureService(settings, metrics)
    assert _value(metrics, "emostream_frames_dropped_total", camera="door", reason="consumer_slow") is None
    service.start()
    try:
        for camera in ("door", "hall"):
            for reason in DropReason:
                assert _value(metrics, "emostream_frames_dropped_total", camera=camera, reason=reason.value) == 0.0
    finally:
        service.close()
