"""Fixtures for the detector's tests: synthetic detections with chosen keypoints, and the fakes the worker
tests share (a classifier, a stage, a (fake) Redis and a worker factory)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import fakeredis
import grpc
import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from emostream.classifier.client import ClassifierRpcError
from emostream.classifier.engine import ModelInfo
from emostream.core.health import Health
from emostream.core.labels import EMOTIONS
from emostream.core.types import AlignedFace, Box, ClassifiedFace, FaceDetection, Frame, FrameDetections
from emostream.detector.metrics import DetectorMetrics
from emostream.detector.settings import DetectorSettings
from emostream.detector.stage import DetectorStage
from emostream.detector.worker import DetectorWorker

MakeFace = Callable[..., FaceDetection]
MakeWorker = Callable[..., DetectorWorker]
INFO = ModelInfo("fake", "7", EMOTIONS, 48, 1.0, ("CPUExecutionProvider",))


def face_at(
    cx: float = 100.0,
    cy: float = 100.0,
    eye_distance: float = 40.0,
    roll_deg: float = 0.0,
    yaw: float = 0.0,
    box_scale: float = 2.5,
    ears: bool = True,
) -> FaceDetection:
    """A plausible detection centred on (cx, cy): eyes ``eye_distance`` apart, rolled and with the
    nose shifted along the eye line by ``yaw`` x eye distance."""
    a = np.radians(roll_deg)
    u = np.array([np.cos(a), np.sin(a)])  # along the eye line (image left -> right)
    v = np.array([-np.sin(a), np.cos(a)])  # down the face
    c = np.array([cx, cy])
    d = eye_distance
    kps = np.array(
        [
            c - u * d / 2,  # right eye (image left)
            c + u * d / 2,  # left eye
            c + v * 0.6 * d + u * yaw * d,  # nose
            c + v * 1.1 * d,  # mouth
            c - u * d * 1.1 + v * 0.3 * d,  # right ear
            c + u * d * 1.1 + v * 0.3 * d,  # left ear
        ],
        dtype=np.float32,
    )
    if not ears:
        kps[4:] = np.nan
    half = box_scale * d / 2
    return FaceDetection(Box(cx - half, cy - half * 0.8, cx + half, cy + half * 1.2), 0.9, kps)


@pytest.fixture
def make_face() -> MakeFace:
    return face_at


# --- the worker's fakes ------------------------------------------------------------------------------------


class FakeClassifier:
    """Every crop "happy"; ``down`` answers UNAVAILABLE, like a classifier that is away."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    @property
    def info(self) -> ModelInfo:
        if self.down:
            raise ClassifierRpcError("fake:1", "ModelInfo", grpc.StatusCode.UNAVAILABLE, "connection refused")
        return INFO

    def classify(self, crops: np.ndarray) -> np.ndarray:
        if self.down:
            raise ClassifierRpcError("fake:1", "Classify", grpc.StatusCode.UNAVAILABLE, "connection refused")
        self.calls += 1
        return np.tile(np.eye(7, dtype=np.float32)[3], (len(crops), 1))


class FakeStage:
    """One face per frame, classified by the fake classifier; thorough every 5th frame. Stateless, so that
    every camera's fork is the stage itself (``seen``: the seqs detected, whatever the camera)."""

    def __init__(self) -> None:
        self.classifier = FakeClassifier()
        self.seen: list[int] = []
        self.warm_ups = 0

    def fork(self) -> FakeStage:
        return self

    def warm_up(self) -> None:
        self.warm_ups += 1

    def rhythm(self, frame_hw: tuple[int, ...]) -> int:
        return 5

    def detect(self, frame: Frame, thorough: bool | None = None) -> list[AlignedFace]:
        self.seen.append(frame.meta.seq)
        return [AlignedFace(face_at(), np.zeros((48, 48), np.uint8))]

    def classify(self, faces: list[AlignedFace]) -> tuple[ClassifiedFace, ...]:
        probabilities = self.classifier.classify(np.zeros((len(faces), 48, 48), np.uint8))
        return tuple(ClassifiedFace(face, probs) for face, probs in zip(faces, probabilities, strict=True))

    def process(self, frame: Frame, thorough: bool | None = None) -> FrameDetections:
        return FrameDetections(frame.meta, self.classify(self.detect(frame, thorough)))


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def make_worker(client: fakeredis.FakeRedis) -> Iterator[MakeWorker]:
    """``make_worker(consumer, stage=None, redis=None, **settings)``: a worker on ``redis`` (default: the
    ``client`` fixture) with ``stage`` (default: a :class:`FakeStage`), stopped at the end of the test."""
    stops: list[threading.Event] = []

    def make(consumer: str = "d1", stage: DetectorStage | None = None, redis: fakeredis.FakeRedis | None = None,
             **settings: object) -> DetectorWorker:  # fmt: skip
        # a live frame's age is a test's own choice: the default 1 s was outrun on a loaded 2-core machine
        settings.setdefault("live_max_age_ms", 60_000)
        config = DetectorSettings(metrics_port=None, block_ms=20, claim_idle_ms=100, claim_interval_s=0.05,
                                  discover_interval_s=0.05, **settings)  # fmt: skip
        stop = threading.Event()
        stops.append(stop)
        return DetectorWorker(client if redis is None else redis, consumer, stage or FakeStage(),  # type: ignore[arg-type]
                              config, DetectorMetrics(CollectorRegistry()), Health(), stop)  # fmt: skip

    yield make
    for stop in stops:
        stop.set()
