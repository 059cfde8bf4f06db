"""The files of a stack under its root: Redis password and config, Prometheus config, logs, ``stack.json``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def password_file(self) -> Path:
        return self.root / "redis.password"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    @property
    def redis_conf(self) -> Path:
        return self.root / "redis.conf"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def prometheus_yml(self) -> Path:
        return self.root / "prometheus.yml"

    @property
    def prometheus_dir(self) -> Path:
        return self.root / "prometheus"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def tail(self, name: str, lines: int = 40) -> str:
        """The last ``lines`` of a service's log (``detector``: of every ``detector-N``)."""
        path = self.log_file(name)
        paths = [path] if path.exists() else sorted(self.logs.glob(f"{name}-*.log"))
        return "\n".join(
            f"[{p.stem}] {line}" if len(paths) > 1 else line
            for p in paths for line in p.read_text(errors="replace").splitlines()[-lines:]
        )  # fmt: skip
