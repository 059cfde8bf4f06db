"""The classifier's Prometheus metrics (prefix ``emostream_classifier_``), created once per registry."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
DELAY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
INFERENCE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


class ClassifierMetrics:
    """Batch size, queue delay, inference time, queue depth and requests by method and status code.

    Pass a fresh ``CollectorRegistry`` where several servers share a process (tests); the default is the
    global registry that ``prometheus_client.start_http_server`` exposes.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = REGISTRY if registry is None else registry
        self.batch_size = Histogram(
            "emostream_classifier_batch_size", "Crops per inference call",
            buckets=BATCH_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.queue_delay = Histogram(
            "emostream_classifier_queue_delay_seconds", "Time a request waited in the queue before inference",
            buckets=DELAY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.inference = Histogram(
            "emostream_classifier_inference_seconds", "Model time per inference call (one batch)",
            buckets=INFERENCE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "emostream_classifier_queue_depth", "Requests waiting in the batcher's queue", registry=self.registry
        )
        self.requests = Counter(
            "emostream_classifier_requests", "RPCs answered, by method and gRPC status code",
            ["method", "code"], registry=self.registry,
        )  # fmt: skip
