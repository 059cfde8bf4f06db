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

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SHARED_DATA = REPO.parent / "shared" / "data"


# the vector extensions that decide ONNX Runtime's speed: two VMs both called "AMD EPYC" differed 3x
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def machine() -> dict[str, Any]:
    cpu, flags = "unknown", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cpu_flags": [flag for flag in SPEED_FLAGS if flag in flags],
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
