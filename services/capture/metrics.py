"""The capture service's Prometheus metrics (label ``camera``; never a URL, which may hold credentials)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from emostream.capture.drops import DropReason


class CaptureMetrics:
    """Frames captured and dropped (with ``reason``), reconnects, source up, source fps."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = REGISTRY if registry is None else registry
        self.frames_captured = Counter(
            "emostream_frames_captured", "Frames read from the source", ["camera"], registry=self.registry
        )
        self.frames_dropped = Counter(
            "emostream_frames_dropped", "Frames lost before the detector, by reason",
            ["camera", "reason"], registry=self.registry,
        )  # fmt: skip
        self.reconnects = Counter(
            "emostream_source_reconnects", "Reconnections to the source", ["camera"], registry=self.registry
        )
        self.source_up = Gauge(
            "emostream_source_up", "1 while the source delivers frames", ["camera"], registry=self.registry
        )
        self.source_fps = Gauge(
            "emostream_source_fps", "Frames per second read from the source", ["camera"], registry=self.registry
        )

    def start_cameras(self, cameras: Iterable[str]) -> None:
        """Export every counter of ``cameras`` at 0 now (each drop reason included), so that the first
        frame, drop or reconnect shows to Prometheus as an increase over a prior sample."""
        for camera in cameras:
            self.frames_captured.labels(camera)
            self.reconnects.labels(camera)
            for reason in DropReason:
                self.frames_dropped.labels(camera, reason)

    def drop(self, camera: str, reason: str, count: int = 1) -> None:
        if count > 0:
            self.frames_dropped.labels(camera, reason).inc(count)
