"""Settings of the capture service: one class, env prefix ``EMOSTREAM_CAPTURE_``, unknown keys refused.

A source URL may carry credentials (``rtsp://user:pass@cam/stream``): give it in the environment
(``EMOSTREAM_CAPTURE_SOURCE`` or ``EMOSTREAM_CAPTURE_CAMERAS``) or the secrets directory, not on the command
line. It is redacted in every log line; metric labels carry the camera name only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from emostream.core.redact import redact_url
from emostream.transport.connection import DEFAULT_URL, secrets_dir
from emostream.transport.keys import frames_stream

CaptureMode = Literal["auto", "live", "replay"]


class CaptureSettings(BaseSettings):
    """The capture service (``emostream serve capture``): one reader per camera."""

    model_config = SettingsConfigDict(env_prefix="EMOSTREAM_CAPTURE_", extra="forbid", secrets_dir=secrets_dir())

    redis_url: str = Field(default=DEFAULT_URL, description="redis:// or rediss:// (TLS)")
    redis_password: SecretStr | None = Field(default=None, description="Redis AUTH password (env or secrets dir)")
    redis_password_file: Path | None = Field(default=None, description="file holding the Redis password")

    camera: str = Field(default="cam0", description="camera name of `source`")
    source: str = Field(default="", description="webcam index, video file, rtsp:// or http(s):// (MJPEG) URL")
    cameras: dict[str, str] = Field(default_factory=dict, description="more cameras: {name: source}")
    mode: CaptureMode = Field(default="auto", description="auto: replay for files, live for the rest")

    maxlen: int = Field(default=100, ge=10, description="live: entries a frames stream keeps (a few seconds)")
    high_water: int = Field(default=32, ge=1, description="replay: detector backlog at which capture waits")
    jpeg_quality: int = Field(default=90, ge=10, le=100, description="live: JPEG quality")
    replay_encoding: Literal["png", "raw"] = Field(default="png", description="replay: lossless encoding")
    inline_max_bytes: int = Field(default=256 * 1024, ge=0, description="replay: bigger images go by claim check")
    image_ttl_s: int = Field(default=600, ge=10, description="claim-checked images expire after this")

    stall_timeout_s: float = Field(default=5.0, gt=0, description="watchdog: no frame this long = stalled")
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=15.0, gt=0)
    pace_files: bool = Field(default=True, description="live: a file plays at its own fps")

    host: str = Field(default="127.0.0.1", description="address of /metrics and /healthz")
    metrics_port: int | None = Field(default=9102, ge=0, le=65535, description="/metrics + /healthz (None: off)")

    @model_validator(mode="after")
    def _check(self) -> CaptureSettings:
        sources = self.sources()
        if not sources:
            raise ValueError("no source: set source (with camera) or cameras")
        for camera in sources:
            frames_stream(camera)  # validates the name
        if self.redis_password is not None and self.redis_password_file is not None:
            raise ValueError("give redis_password or redis_password_file, not both")
        return self

    def sources(self) -> dict[str, str]:
        """Every camera and its source."""
        sources = dict(self.cameras)
        if self.source:
            sources.setdefault(self.camera, self.source)
        return sources

    def mode_of(self, source: str) -> Literal["live", "replay"]:
        if self.mode != "auto":
            return self.mode
        return "replay" if Path(source).is_file() else "live"

    def password(self) -> str | None:
        return self.redis_password.get_secret_value() if self.redis_password is not None else None

    def describe(self) -> str:
        """The cameras for a log line, credentials redacted."""
        return ",".join(f"{cam}={redact_url(src)}" for cam, src in sorted(self.sources().items()))
