"""A fake engine for the batcher and server tests: records its calls, can be held at a gate."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from emostream.classifier.engine import ModelInfo, validate_crops
from emostream.core.labels import EMOTIONS


class FakeEngine:
    """Row i of the output puts all its mass on class ``crop_i[0, 0] % 7``, so tests can tell whose row is whose.

    With ``gated``, each call waits for :attr:`release` (set it to let inference go on).
    """

    info = ModelInfo("fake", "0", EMOTIONS, 48, 1.0, ("CPUExecutionProvider",))

    def __init__(self, gated: bool = False, fail: bool = False) -> None:
        self.calls: list[int] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not gated:
            self.release.set()
        self.fail = fail

    def classify(self, crops: np.ndarray) -> np.ndarray:
        validate_crops(crops)
        self.calls.append(len(crops))
        self.started.set()
        if not self.release.wait(10):
            raise TimeoutError("the test never released the gate")
        if self.fail:
            raise RuntimeError("boom")
        out = np.zeros((len(crops), len(EMOTIONS)), np.float32)
        out[np.arange(len(crops)), crops[:, 0, 0].astype(int) % len(EMOTIONS)] = 1.0
        return out


def crops_of(*values: int) -> np.ndarray:
    """One crop per value, filled with it."""
    return np.stack([np.full((48, 48), v, np.uint8) for v in values]) if values else np.zeros((0, 48, 48), np.uint8)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def gated_engine() -> Iterator[FakeEngine]:
    engine = FakeEngine(gated=True)
    yield engine
    engine.release.set()
