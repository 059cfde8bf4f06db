"""Which services the local stack runs, on which loopback ports, with which options."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

ORDER = ("redis", "classifier", "detector", "aggregator", "capture", "prometheus")  # start order


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    redis: int = 6379
    classifier: int = 50051
    classifier_metrics: int = 9101
    capture_metrics: int = 9102
    detector_metrics: tuple[int, ...] = (9103,)
    aggregator: int = 50053
    aggregator_metrics: int = 9104
    prometheus: int = 9090

    @classmethod
    def free(cls, detectors: int, host: str = "127.0.0.1") -> Ports:
        return cls(free_port(host), free_port(host), free_port(host), free_port(host),
                   tuple(free_port(host) for _ in range(detectors)), free_port(host), free_port(host),
                   free_port(host))  # fmt: skip


@dataclass(frozen=True)
class StackConfig:
    root: Path = Path("build/stack")
    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=Ports)
    services: tuple[str, ...] = ORDER  # which to start (capture only with camera_url, prometheus if installed)
    camera_url: str | None = None
    camera: str = "cam0"
    claim_idle_ms: int = 30_000
    scrape_interval_s: float = 5.0
    ready_timeout_s: float = 180.0
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)  # extra environment for every emostream service

    @property
    def detectors(self) -> int:
        return len(self.ports.detector_metrics)

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.ports.redis}/0"

    def address(self, port: int) -> str:
        return f"{self.host}:{port}"

    @classmethod
    def on_free_ports(cls, root: Path, detectors: int = 1, **options: object) -> StackConfig:
        config = cls(root=root, **options)  # type: ignore[arg-type]
        return replace(config, ports=Ports.free(detectors, config.host))
