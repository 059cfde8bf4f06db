"""Integration fixtures: run the real ``emostream`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_VIDEO = REPO / "examples" / "astronaut.mp4"

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    def run(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        return subprocess.run(
            [sys.executable, "-m", "emostream.cli", *map(str, args)],
            capture_output=True, text=True, timeout=timeout, env=env, check=False,
        )  # fmt: skip

    return run


@pytest.fixture(scope="session")
def sample_video() -> Path:
    return SAMPLE_VIDEO
