"""The repository stays lean: no tracked file above the limit a file (``training.npz_store`` splits checkpoints)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from training.npz_store import REPO_FILE_LIMIT_BYTES

ROOT = Path(__file__).resolve().parents[2]


def test_no_tracked_file_is_over_the_limit() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    paths = [ROOT / name for name in listed.decode().split("\0") if name]
    too_big = {str(p.relative_to(ROOT)): p.stat().st_size for p in paths if p.is_file()}
    too_big = {name: size for name, size in too_big.items() if size > REPO_FILE_LIMIT_BYTES}
    assert not too_big, f"tracked files over {REPO_FILE_LIMIT_BYTES:,} bytes: {too_big}"
