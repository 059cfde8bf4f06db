"""Settings of the classifier service: one class, env prefix ``EMOSTREAM_CLASSIFIER_``, unknown keys refused.

Secrets come from the environment (``EMOSTREAM_CLASSIFIER_TOKEN``), from a file named by ``token_file``, or
from a secrets directory (``$EMOSTREAM_SECRETS_DIR``, default ``/run/secrets``, a file named
``emostream_classifier_token``), never from the command line.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from emostream.classifier.batcher import BatcherConfig
from emostream.classifier.engine import DEFAULT_MODEL
from emostream.components import DetectorName
from emostream.core.grpc_server import GrpcServerSettings
from emostream.core.images import MAX_PIXELS
from emostream.transport.connection import secrets_dir


class ClassifierSettings(GrpcServerSettings):
    """The classifier service (``emostream serve classifier``); host, TLS, token, grace and reflection as
    :class:`~emostream.core.grpc_server.GrpcServerSettings`."""

    model_config = SettingsConfigDict(env_prefix="EMOSTREAM_CLASSIFIER_", extra="forbid", secrets_dir=secrets_dir())

    port: int = Field(default=50051, ge=0, le=65535, description="gRPC port (0: any free port)")
    metrics_port: int | None = Field(default=9101, ge=0, le=65535, description="/metrics port (None: off)")

    model: Path = Field(default=DEFAULT_MODEL, description="emotion model (.onnx)")
    providers: tuple[str, ...] = ("CUDAExecutionProvider", "CPUExecutionProvider")
    threads: int = Field(default=0, ge=0, description="ONNX Runtime intra-op threads (0: all cores)")

    max_batch: int = Field(default=32, ge=1, le=4096, description="crops per inference call (1: batching off)")
    max_delay_ms: float = Field(
        default=0.0, ge=0, le=1000, description="longest wait for a fuller batch (0: batch what queued meanwhile)"
    )
    max_queue: int = Field(default=128, ge=1, description="requests waiting; more: RESOURCE_EXHAUSTED")
    workers: int = Field(default=1, ge=1, le=16, description="inference calls in flight")
    max_crops_per_request: int = Field(default=256, ge=1)
    max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024, description="largest request message")

    analyzer: bool = Field(default=True, description="also serve FaceAnalyzer (photo in, faces out)")
    detector: DetectorName = "cascade"
    detector_threads: int = Field(default=1, ge=0)
    max_image_pixels: int = Field(default=MAX_PIXELS, ge=1, description="Analyze: decode limit")

    def batcher_config(self) -> BatcherConfig:
        return BatcherConfig(self.max_batch, self.max_delay_ms, self.max_queue, self.workers)
