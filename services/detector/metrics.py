"""The detector service's Prometheus metrics (label ``camera`` where it applies)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from emostream.detector.freshness import SkipReason
from emostream.transport.dead_letter import DeadLetterReason

FACE_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64)
SECONDS_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class DetectorMetrics:
    """Frames processed and skipped (live, by reason), faces per frame, detect latency, classifier RPC latency,
    dead letters."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = REGISTRY if registry is None else registry
        self.frames = Counter(
            "emostream_detector_frames", "Frames processed (Detections written)", ["camera"], registry=self.registry
        )
        self.frames_skipped = Counter(
            "emostream_detector_frames_skipped", "Live frames skipped unprocessed (newest frame wins), by reason",
            ["camera", "reason"], registry=self.registry,
        )  # fmt: skip
        self.faces_per_frame = Histogram(
            "emostream_detector_faces_per_frame", "Faces found in a frame",
            ["camera"], buckets=FACE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.detect_seconds = Histogram(
            "emostream_detect_seconds", "Time to process a frame: detect, align and classify",
            ["camera"], buckets=SECONDS_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.classify_rpc_seconds = Histogram(
            "emostream_classify_rpc_seconds", "Classify RPC time (all crops of a frame, retries included)",
            buckets=SECONDS_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.dead_letters = Counter(
            "emostream_dead_letters", "Entries given up on, by stage and reason",
            ["stage", "reason"], registry=self.registry,
        )  # fmt: skip
        for reason in DeadLetterReason:  # at 0 from the start, so the first dead letter is an increase
            self.dead_letters.labels("detector", reason.value)

    def add_camera(self, camera: str) -> None:
        """A camera just found: its counters at 0, so that the first frame or skip is an increase."""
        self.frames.labels(camera)
        for reason in SkipReason:
            self.frames_skipped.labels(camera, reason.value)
