"""The aggregator's Prometheus metrics (names fixed: the Grafana dashboard and alert rules use them).

``prometheus_client`` appends ``_total`` to counter names, so ``emostream_events`` is exported as
``emostream_events_total``.
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


class SkipReason(StrEnum):
    """Why a Detections entry was not aggregated (the ``reason`` label of ``emostream_frames_skipped``)."""

    DUPLICATE = "duplicate"  # its seq was applied already (a redelivery)
    LATE = "late"  # its seq was given up on (a gap) before it came
    GAP = "gap"  # a seq that never came within the reorder wait
    AFTER_END = "after_end"  # after the end-of-stream entry
    TRIMMED = "trimmed"  # pending, but trimmed from the stream
    DEAD_LETTER = "dead_letter"  # unreadable: sent to emostream:dead
    STALE_LIVE = "stale_live"  # a live frame the detector skipped (a newer one was waiting): not observed


class AggregatorMetrics:
    """Emotion frames, active tracks, track durations, events, pipeline latency, stream lag and skips.

    Pass a fresh ``CollectorRegistry`` where several services share a process (tests).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = REGISTRY if registry is None else registry
        r = self.registry
        self.emotion_frames = Counter(
            "emostream_emotion_frames", "Track frames aggregated, by smoothed label", ["camera", "emotion"], registry=r
        )
        self.active_tracks = Gauge("emostream_active_tracks", "Confirmed tracks currently seen", ["camera"], registry=r)
        self.track_duration = Histogram(
            "emostream_track_duration_seconds", "Duration of finished tracks (presentation time)", ["camera"],
            buckets=DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.events = Counter("emostream_events", "Timeline events published", ["camera", "type"], registry=r)
        self.pipeline_latency = Histogram(
            "emostream_pipeline_latency_seconds", "Capture wall time to aggregation", ["camera"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.stream_lag = Gauge(
            "emostream_stream_lag", "Entries of a camera's stream not yet delivered or acknowledged, by group",
            ["camera", "group"], registry=r,
        )  # fmt: skip
        self.frames_skipped = Counter(
            "emostream_frames_skipped", "Detections entries not aggregated, by reason", ["camera", "reason"], registry=r
        )

    def add_camera(self, camera: str) -> None:
        """A camera just taken on: its skip counters at 0 for every reason, so that the first skip is an
        increase and the dashboard has a series from the start."""
        for reason in SkipReason:
            self.frames_skipped.labels(camera, reason.value)
