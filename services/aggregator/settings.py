"""Settings of the aggregator service: one class, env prefix ``EMOSTREAM_AGGREGATOR_``, unknown keys refused.

Secrets come from the environment (``EMOSTREAM_AGGREGATOR_TOKEN``, ``EMOSTREAM_AGGREGATOR_REDIS_PASSWORD``), from
files (``token_file``, ``redis_password_file``) or from a secrets directory (``$EMOSTREAM_SECRETS_DIR``, default
``/run/secrets``: files ``emostream_aggregator_token``, ``emostream_aggregator_redis_password``), never from the
command line.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from emostream.aggregator.timeline import TimelineConfig
from emostream.core.grpc_server import GrpcServerSettings
from emostream.core.rpc import secret_value
from emostream.transport.connection import secrets_dir


def _default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class AggregatorSettings(GrpcServerSettings):
    """The aggregator service (``emostream serve aggregator``); host, TLS, token, grace and reflection as
    :class:`~emostream.core.grpc_server.GrpcServerSettings`."""

    model_config = SettingsConfigDict(env_prefix="EMOSTREAM_AGGREGATOR_", extra="forbid", secrets_dir=secrets_dir())

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="redis:// or rediss://, no password")
    redis_password: SecretStr | None = None
    redis_password_file: Path | None = Field(default=None, description="file holding the Redis password")

    port: int = Field(default=50053, ge=0, le=65535, description="gRPC TimelineService port (0: any free port)")
    metrics_port: int | None = Field(default=9104, ge=0, le=65535, description="/metrics port (None: off)")

    consumer: str = Field(default_factory=_default_consumer, min_length=1, description="this replica's name")
    cameras: tuple[str, ...] = Field(default=(), description="only these cameras (empty: every camera seen)")
    discover_interval_s: float = Field(default=1.0, gt=0, description="how often new cameras are looked for")

    lease_ms: int = Field(default=10_000, ge=500, description="a camera's ownership lease; a dead owner's expires")
    renew_fraction: float = Field(default=1 / 3, gt=0, lt=1, description="renew after this part of the lease")
    read_count: int = Field(default=64, ge=1, le=10_000, description="entries per XREADGROUP")
    block_ms: int = Field(default=200, ge=1, description="longest blocking read")
    reorder_window: int = Field(default=64, ge=0, description="out-of-order entries held while waiting for a gap")
    reorder_wait_s: float = Field(default=2.0, ge=0, description="longest wait for a missing seq before skipping it")
    live_reorder_wait_s: float = Field(
        default=0.05, ge=0, description="the same for a live camera (capture drops frames there; newest frame wins)"
    )

    retention_seconds: float | None = Field(
        default=24 * 3600.0, gt=0, description="timeline keys expire this long after the last frame (None: never)"
    )
    events_maxlen: int = Field(default=100_000, ge=1, description="events stream cap (XADD MAXLEN ~)")
    timeline: TimelineConfig = Field(default_factory=TimelineConfig, description="tracker and smoother tuning")
    lag_interval_s: float = Field(default=2.0, gt=0, description="how often stream lag is read (XINFO GROUPS)")

    page_size: int = Field(default=100, ge=1, le=10_000, description="ListTracks default page size")
    max_page_size: int = Field(default=1000, ge=1, description="ListTracks largest page size")
    max_message_bytes: int = Field(default=64 * 1024 * 1024, ge=64 * 1024, description="largest response")

    @model_validator(mode="after")
    def _check(self) -> AggregatorSettings:
        if self.redis_password is not None and self.redis_password_file is not None:
            raise ValueError("give redis_password or redis_password_file, not both")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"redis_url must start with redis://, rediss:// or unix:// (got {self.redis_url!r})")
        if self.page_size > self.max_page_size:
            raise ValueError("page_size must not exceed max_page_size")
        return self

    @property
    def lease_renew_s(self) -> float:
        return self.lease_ms / 1000 * self.renew_fraction

    def redis_secret(self) -> str | None:
        """The Redis password, or None."""
        return secret_value(self.redis_password, self.redis_password_file, "Redis password")
