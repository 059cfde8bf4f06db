"""Per-camera detection state in one detector replica, and the warm-up before the first read: the worker and
the service against a (fake) Redis, a real stage with a fake following detector, and the real cascade's
fork and warm-up (its shared sessions, its untouched follow state)."""

from __future__ import annotations

import threading
from typing import Any

import fakeredis
import numpy as np
import pytest

from emostream.capture.publisher import FramePublisher, PublishOptions
from emostream.core.types import FaceDetection, Frame, FrameMeta
from emostream.detector import service as detector_service
from emostream.detector.base import StreamDetector
from emostream.detector.cameras import CameraStates
from emostream.detector.cascade import CascadeDetector
from emostream.detector.settings import DetectorSettings
from emostream.detector.stage import DetectorStage, DetectorStageConfig
from emostream.detector.worker import DetectorWorker
from emostream.transport.backpressure import Backpressure
from emostream.transport.codec import decode_detections
from emostream.transport.keys import detections_stream

from .conftest import FakeClassifier, MakeWorker, face_at, wait_for

HEIGHT, WIDTH = 96, 128
Events = list[tuple[str, int]]


class FollowingDetector:
    """Like the cascade: the thorough pass finds the face drawn in the frame (centred at x = the frame's
    grey level), the fast pass follows the previous call's faces (one pixel to the right each time).
    ``fork()`` shares ``events`` (the "models") and starts a fresh follow state."""

    def __init__(self, events: Events | None = None) -> None:
        self.events: Events = events if events is not None else []
        self.previous: list[FaceDetection] = []

    def detect(self, image_bgr: np.ndarray, thorough: bool = True) -> list[FaceDetection]:
        self.events.append(("detect", id(self)))
        if thorough:
            faces = [face_at(float(image_bgr[0, 0, 0]), HEIGHT / 2, eye_distance=16)]
        else:
            faces = [face_at(f.box.centre[0] + 1, HEIGHT / 2, eye_distance=16) for f in self.previous]
        self.previous = faces
        return faces

    def fork(self) -> FollowingDetector:
        return FollowingDetector(self.events)

    def warm_up(self, image_bgr: np.ndarray) -> None:
        self.events.append(("warm_up", id(self)))
        self.detect(image_bgr, thorough=True)  # a careless warm-up: it moves the follow state
        self.detect(image_bgr, thorough=False)


def stage_of(events: Events | None = None) -> DetectorStage:
    return DetectorStage(FollowingDetector(events), FakeClassifier(),  # type: ignore[arg-type]
                         config=DetectorStageConfig(thorough_every=3))  # fmt: skip


def publish(client: fakeredis.FakeRedis, camera: str, grey: int, count: int) -> None:
    publisher = FramePublisher(client, camera, Backpressure.replay(high_water=1000), PublishOptions())
    for seq in range(count):
        image = np.full((HEIGHT, WIDTH, 3), grey, np.uint8)
        publisher.publish(Frame(FrameMeta(camera, seq, seq / 25, 1.0, WIDTH, HEIGHT), image))


def faces_by_seq(client: fakeredis.FakeRedis, camera: str) -> list[tuple[int, bool, list[float]]]:
    out = []
    for _, fields in client.xrange(detections_stream(camera)):
        message = decode_detections(fields)
        out.append((message.seq, message.thorough, [round((f.box.x1 + f.box.x2) / 2, 3) for f in message.faces]))
    return out


def run_alone(camera: str, grey: int, count: int, make_worker: MakeWorker) -> list[tuple[int, bool, list[float]]]:
    """The camera's detections from a worker of its own, on a Redis of its own."""
    redis = fakeredis.FakeRedis()
    publish(redis, camera, grey, count)
    worker = make_worker("solo", stage=stage_of(), redis=redis)
    worker.discover()
    while worker.read():
        pass
    return faces_by_seq(redis, camera)


def test_interleaved_cameras_get_the_detections_each_gets_alone(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish(client, "cam1", 30, 7)
    publish(client, "cam2", 80, 7)
    worker = make_worker(stage=stage_of())
    worker.discover()
    assert worker.read() == 2, "one entry of each stream per read: the cameras' frames interleave"
    while worker.read():
        pass
    cam1, cam2 = faces_by_seq(client, "cam1"), faces_by_seq(client, "cam2")
    assert cam1 == run_alone("cam1", 30, 7, make_worker) and cam2 == run_alone("cam2", 80, 7, make_worker)
    assert [centres for _, _, centres in cam1] == [[30], [31], [32], [30], [31], [32], [30]], "cam1 follows cam1"
    assert [thorough for _, thorough, _ in cam2] == [seq % 3 == 0 for seq in range(7)]
    assert worker.cameras.cameras == {"cam1", "cam2"}


def test_each_camera_has_its_own_fork_of_the_replicas_stage_until_its_stream_ends(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    template = stage_of()
    worker = make_worker(stage=template)
    first, second = worker.cameras.stage("cam1"), worker.cameras.stage("cam2")
    assert first is worker.cameras.stage("cam1") and first is not second and template not in (first, second)
    assert first.classifier is template.classifier and first.aligner is template.aligner
    assert first.detector is not second.detector is not template.detector
    worker.cameras.end("cam1")
    assert worker.cameras.cameras == {"cam2"} and worker.cameras.stage("cam1") is not first


def test_a_camera_silent_for_idle_forget_s_loses_its_state() -> None:
    now = [0.0]
    cameras = CameraStates(stage_of(), idle_forget_s=60.0, clock=lambda: now[0])
    gone, busy = cameras.stage("gone"), cameras.stage("busy")
    for now[0] in (20.0, 40.0, 59.0):
        assert cameras.stage("busy") is busy
    assert cameras.cameras == {"gone", "busy"}  # 59 s: not yet
    now[0] = 61.0
    assert cameras.stage("busy") is busy and cameras.cameras == {"busy"}  # "gone" vanished without end of stream
    assert cameras.stage("gone") is not gone  # back after the silence: a fresh state, as after an end of stream


def test_the_warm_up_runs_before_the_first_read_and_leaves_no_camera_state(
    client: fakeredis.FakeRedis, make_worker: MakeWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: Events = []
    worker = make_worker(stage=stage_of(events))
    read = client.xreadgroup

    def counted_read(*args: Any, **kwargs: Any) -> Any:
        events.append(("read", 0))
        return read(*args, **kwargs)

    monkeypatch.setattr(client, "xreadgroup", counted_read)
    publish(client, "cam1", 30, 2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    wait_for(lambda: len(faces_by_seq(client, "cam1")) == 2)
    worker.stop.set()
    thread.join(5)
    kinds = [kind for kind, _ in events]
    assert kinds[:3] == ["warm_up", "detect", "detect"] and "warm_up" not in kinds[3:], "once, first of all"
    assert kinds.index("read") == 3
    warmed = events[0][1]
    camera = worker.cameras.stage("cam1").detector
    assert warmed not in (id(worker.stage.detector), id(camera)), "on a fork: no stream's detector"
    assert worker.stage.detector.previous == []  # type: ignore[attr-defined]
    assert [centres for _, _, centres in faces_by_seq(client, "cam1")] == [[30], [31]], "the camera starts afresh"


def test_the_stage_warms_up_on_a_blank_720p_frame_without_calling_the_classifier() -> None:
    shapes: list[tuple[int, ...]] = []

    class Stateless:
        def detect(self, image_bgr: np.ndarray, thorough: bool = True) -> list[FaceDetection]:
            shapes.append((*image_bgr.shape, thorough))
            assert not image_bgr.any()
            return []

    stage = DetectorStage(Stateless(), FakeClassifier())  # type: ignore[arg-type]
    assert stage.fork().detector is stage.detector, "a stateless detector is shared as it is"
    stage.warm_up()
    assert shapes == [(720, 1280, 3, True), (720, 1280, 3, False)]
    assert stage.classifier.calls == 0  # type: ignore[attr-defined]


def test_the_service_warms_every_replica_up_before_it_serves_health_or_consumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: Events = []
    monkeypatch.setattr(detector_service, "build_stage", lambda pipeline, classifier: stage_of(events))
    serve_http = detector_service.serve_http

    def serve(*args: Any) -> Any:
        events.append(("serve_http", 0))
        return serve_http(*args)

    def run(self: DetectorWorker) -> None:
        events.append(("run", 0))

    monkeypatch.setattr(detector_service, "serve_http", serve)
    monkeypatch.setattr(detector_service.DetectorService, "probe", lambda self: events.append(("probe", 0)))
    monkeypatch.setattr(DetectorWorker, "run", run)
    settings = DetectorSettings(replicas=2, metrics_port=0, redis_url="redis://127.0.0.1:1/0",
                                classifier_target="127.0.0.1:1")  # fmt: skip
    service = detector_service.DetectorService(settings)
    try:
        service.start()
        for thread in service.threads:
            thread.join(5)
    finally:
        service.close()
    kinds = [kind for kind, _ in events if kind != "detect"]
    assert kinds == ["warm_up", "warm_up", "serve_http", "probe", "run", "run"]
    assert all(worker.warm for worker in service.workers)


def test_the_cascades_fork_shares_its_sessions_and_warm_up_leaves_its_state() -> None:
    detector = CascadeDetector()
    assert isinstance(detector, StreamDetector)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (360, 640, 3), np.uint8)
    detector.detect(frame, thorough=False)
    before = (list(detector.state.previous), detector.state.shape, detector.state.since_full)
    fork = detector.fork()
    assert fork.fast.session is detector.fast.session and fork.thorough.session is detector.thorough.session
    assert fork.follow is detector.follow and fork.state is not detector.state and fork.state.shape == ()
    detector.warm_up(np.zeros((720, 1280, 3), np.uint8))
    fork.detect(np.zeros((720, 1280, 3), np.uint8), thorough=True)
    assert (detector.state.previous, detector.state.shape, detector.state.since_full) == before
