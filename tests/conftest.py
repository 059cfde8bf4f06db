"""Shared fixtures: where the real data lives (../shared/data, read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def videos(shared_data: Path) -> Path:
    return shared_data / "videos"


@pytest.fixture(scope="session")
def images(shared_data: Path) -> Path:
    return shared_data / "images"


@pytest.fixture(scope="session")
def fer_npz(shared_data: Path) -> Path:
    return shared_data / "fer2013" / "fer2013_train_val.npz"
