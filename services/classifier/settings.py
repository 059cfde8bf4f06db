"""Settings of the classifier service: one class, env prefix ``EMOSTREAM_CLASSIFIER_``, unknown keys refused.

Secrets come from the environment (``EMOSTREAM_CLASSIFIER_TOKEN``), from a file named by ``token_file``, or
from a secrets directory (``$EMOSTREAM_SECRETS_DIR``, default ``/run/secrets``, a file named
``emostream_classifier_token``), never from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from emostream.classifier.batcher import BatcherConfig
from emostream.classifier.engine import DEFAULT_MODEL
from emostream.components import DetectorName
from emostream.core.images import MAX_PIXELS
from emostream.core.rpc import read_secret_file


def _secrets_dir() -> str | None:
    path = Path(os.environ.get("EMOSTREAM_SECRETS_DIR", "/run/secrets"))
    return str(path) if path.is_dir() else None


class ClassifierSettings(BaseSettings):
    """The classifier service (``emostream serve classifier``)."""

    model_config = SettingsConfigDict(env_prefix="EMOSTREAM_CLASSIFIER_", extra="forbid", secrets_dir=_secrets_dir())

    host: str = Field(default="127.0.0.1", description="address to listen on ('0.0.0.0' in a container)")
    port: int = Field(default=50051, ge=0, le=65535, description="gRPC port (0: any free port)")
    metrics_port: int | None = Field(default=9101, ge=0, le=65535, description="/metrics port (None: off)")

    model: Path = Field(default=DEFAULT_MODEL, description="emotion model (.onnx)")
    providers: tuple[str, ...] = ("CUDAExecutionProvider", "CPUExecutionProvider")
    threads: int = Field(default=0, ge=0, description="ONNX Runtime intra-op threads (0: all cores)")

    max_batch: int = Field(default=32, ge=1, le=4096, description="crops per inference call (1: batching off)")
    max_delay_ms: float = Field(default=2.0, ge=0, le=1000, description="longest wait for a fuller batch")
    max_queue: int = Field(default=128, ge=1, description="requests waiting; more: RESOURCE_EXHAUSTED")
    workers: int = Field(default=1, ge=1, le=16, description="inference calls in flight")
    max_crops_per_request: int = Field(default=256, ge=1)
    max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024, description="largest request message")

    analyzer: bool = Field(default=True, description="also serve FaceAnalyzer (photo in, faces out)")
    detector: DetectorName = "cascade"
    detector_threads: int = Field(default=1, ge=0)
    max_image_pixels: int = Field(default=MAX_PIXELS, ge=1, description="Analyze: decode limit")

    grace_seconds: float = Field(default=5.0, ge=0, description="on SIGTERM: time in-flight calls get to finish")
    tls_cert: Path | None = Field(default=None, description="PEM certificate chain; TLS when set, with tls_key")
    tls_key: Path | None = None
    token: SecretStr | None = Field(default=None, description="bearer token required on the public APIs")
    token_file: Path | None = Field(default=None, description="file holding the bearer token")
    reflection: bool = True

    @model_validator(mode="after")
    def _check(self) -> ClassifierSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both tls_cert and tls_key")
        if self.token is not None and self.token_file is not None:
            raise ValueError("give the token or token_file, not both")
        return self

    def batcher_config(self) -> BatcherConfig:
        return BatcherConfig(self.max_batch, self.max_delay_ms, self.max_queue, self.workers)

    def bearer_token(self) -> str | None:
        """The token calls must carry, or None (no auth)."""
        if self.token is not None:
            return self.token.get_secret_value().strip() or None
        if self.token_file is not None:
            return read_secret_file(self.token_file, "token").decode().strip()
        return None
