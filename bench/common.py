"""What every benchmark shares: medians, machine description, and where results go."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emostream.core.host import cpu_model_and_flags

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SHARED_DATA = REPO.parent / "shared" / "data"


def machine() -> dict[str, Any]:
    cpu, flags = cpu_model_and_flags()
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cpu_flags": flags,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = RESULTS / f"{stamp}-{socket.gethostname()}-{name}.json"
    document = {"benchmark": name, "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    path.write_text(json.dumps(document | payload, indent=2) + "\n")
    return path
