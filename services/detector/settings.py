"""Settings of the detector service: one class, env prefix ``EMOSTREAM_DETECTOR_``, unknown keys refused.

The classifier's bearer token comes from ``classifier_token_file``, ``EMOSTREAM_DETECTOR_CLASSIFIER_TOKEN``
or the secrets directory; the Redis password from ``redis_password_file``, ``EMOSTREAM_DETECTOR_REDIS_PASSWORD``
or ``EMOSTREAM_REDIS_PASSWORD``; never from the command line.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from emostream.components import DetectorName, PipelineSettings
from emostream.core.images import MAX_PIXELS
from emostream.core.rpc import secret_value
from emostream.transport.connection import DEFAULT_URL, secrets_dir


def _default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class DetectorSettings(BaseSettings):
    """The detector service (``emostream serve detector``)."""

    model_config = SettingsConfigDict(env_prefix="EMOSTREAM_DETECTOR_", extra="forbid", secrets_dir=secrets_dir())

    redis_url: str = Field(default=DEFAULT_URL, description="redis:// or rediss:// (TLS)")
    redis_password: SecretStr | None = None
    redis_password_file: Path | None = None

    classifier_target: str = Field(default="127.0.0.1:50051", description="classifier gRPC HOST:PORT")
    classifier_token: SecretStr | None = None
    classifier_token_file: Path | None = None
    classifier_tls_ca: Path | None = Field(default=None, description="PEM CA bundle: TLS to the classifier")
    classify_timeout_s: float = Field(default=2.0, gt=0, description="deadline of one Classify call")

    consumer_name: str = Field(default_factory=_default_consumer, description="consumer name in the group")
    replicas: int = Field(default=1, ge=1, le=64, description="worker threads, each its own consumer")
    claim_idle_ms: int = Field(default=30_000, ge=100, description="take over entries pending this long")
    claim_interval_s: float = Field(default=5.0, gt=0, description="how often dead consumers' entries are sought")
    block_ms: int = Field(default=1000, ge=10, le=5000, description="XREADGROUP BLOCK")
    discover_interval_s: float = Field(default=2.0, gt=0, description="how often new cameras are looked for")
    detections_maxlen: int = Field(default=100_000, ge=100, description="entries a detections stream keeps")
    live_max_age_ms: int = Field(
        default=1000, ge=0, description="live: skip a frame older than this (capture wall time; 0: no limit)"
    )
    live_batch: int = Field(default=64, ge=1, le=10_000, description="live: backlog entries read at once")
    camera_idle_forget_s: float = Field(
        default=300.0, gt=0, description="forget a camera's detection state after this long without a frame"
    )

    detector: DetectorName = "cascade"
    thorough_every: int = Field(default=0, ge=0, description="thorough pass every N frames; 0: by frame size")
    threads: int = Field(default=1, ge=0, description="ONNX Runtime intra-op threads of the face detector")
    max_image_pixels: int = Field(default=MAX_PIXELS, ge=1, description="frame decode limit")

    host: str = Field(default="127.0.0.1", description="address of /metrics and /healthz")
    metrics_port: int | None = Field(default=9103, ge=0, le=65535, description="/metrics + /healthz (None: off)")

    @model_validator(mode="after")
    def _check(self) -> DetectorSettings:
        if self.classifier_token is not None and self.classifier_token_file is not None:
            raise ValueError("give classifier_token or classifier_token_file, not both")
        if self.redis_password is not None and self.redis_password_file is not None:
            raise ValueError("give redis_password or redis_password_file, not both")
        return self

    def pipeline(self) -> PipelineSettings:
        """The stage settings: the same defaults as the embedded pipeline, so that results match."""
        return PipelineSettings(detector=self.detector, thorough_every=self.thorough_every, threads=self.threads)

    def token(self) -> str | None:
        return secret_value(self.classifier_token, self.classifier_token_file, "token")

    def password(self) -> str | None:
        return self.redis_password.get_secret_value() if self.redis_password is not None else None
