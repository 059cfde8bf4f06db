"""The aggregator service against a real ``redis-server`` and a real gRPC server on loopback (free ports).

Synthetic Detections entries (two faces walking slowly, fixed emotions) go into the detections stream the way
the detector writes them; the test reads everything back over ``TimelineService`` and checks it against the
embedded ``TimelineBuilder`` fed the same frames.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
import numpy as np
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from emostream.aggregator import TimelineBuilder
from emostream.aggregator.service import AggregatorService
from emostream.aggregator.settings import AggregatorSettings
from emostream.aggregator.wire import detections_from_proto
from emostream.core.labels import EMOTIONS
from emostream.protos.v1 import face_pb2, stream_pb2, timeline_pb2, timeline_pb2_grpc
from emostream.transport.keys import AGGREGATOR_GROUP, PAYLOAD_FIELD, detections_stream, events_stream, timeline_key

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
T = TypeVar("T")
pytestmark = pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="redis-server is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(up, 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def rdb(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


class ServiceThread:
    """An AggregatorService on its own event loop in a background thread."""

    def __init__(self, settings: AggregatorSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.service = self._call(self._make())
        self._call(self.service.start())
        assert self.service.port

    async def _make(self) -> AggregatorService:
        return AggregatorService(self.settings, registry=CollectorRegistry())

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.service.port}"

    def metric(self, name: str, labels: dict[str, str]) -> float | None:
        return self.service.metrics.registry.get_sample_value(name, labels)

    def stop(self) -> None:
        self._call(self.service.stop(grace=1))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def settings_for(redis_url: str, consumer: str, **extra: object) -> AggregatorSettings:
    values: dict[str, object] = dict(
        redis_url=redis_url, port=0, metrics_port=None, consumer=consumer, discover_interval_s=0.1,
        lease_ms=1500, block_ms=50, reorder_wait_s=0.3, lag_interval_s=0.2,
    )  # fmt: skip
    values.update(extra)
    return AggregatorSettings(**values)


@pytest.fixture
def start_service(redis_url: str) -> Iterator[Callable[..., ServiceThread]]:
    running: list[ServiceThread] = []

    def start(consumer: str = "agg-a", **extra: object) -> ServiceThread:
        service = ServiceThread(settings_for(redis_url, consumer, **extra))
        running.append(service)
        return service

    yield start
    for service in running:
        if service.thread.is_alive():
            service.stop()


# --- synthetic detections -------------------------------------------------------------------------------------


def face(x: float, probs: list[float]) -> face_pb2.Face:
    keypoints = [face_pb2.Point(x=x + 20 + 10 * i, y=140) for i in range(6)]
    best = int(np.argmax(probs))
    return face_pb2.Face(
        box=face_pb2.Box(x1=x, y1=100, x2=x + 80, y2=200), score=0.9, keypoints=keypoints,
        probabilities=probs, label=EMOTIONS[best], confidence=probs[best],
    )  # fmt: skip


HAPPY = [0.02, 0.01, 0.02, 0.85, 0.03, 0.02, 0.05]
SAD = [0.03, 0.01, 0.05, 0.02, 0.8, 0.02, 0.07]


def detections(camera: str, seq: int, fps: float = 10.0) -> stream_pb2.Detections:
    """Face A (happy, then sad from seq 15) all along; face B (happy) from seq 5 to 24."""
    faces = [face(50 + seq, HAPPY if seq < 15 else SAD)]
    if 5 <= seq < 25:
        faces.append(face(400 - seq, HAPPY))
    return stream_pb2.Detections(
        schema_version=1, camera=camera, seq=seq, pts=seq / fps, wall_time=time.time(), width=640, height=480,
        faces=faces, model_version="test",
    )  # fmt: skip


def end_of_stream(camera: str, seq: int) -> stream_pb2.Detections:
    return stream_pb2.Detections(schema_version=1, camera=camera, seq=seq, pts=seq / 10, wall_time=time.time(),
                                 end_of_stream=True)  # fmt: skip


def publish(rdb: redis.Redis, message: stream_pb2.Detections) -> None:
    rdb.xadd(detections_stream(message.camera), {PAYLOAD_FIELD: message.SerializeToString()})


def embedded(camera: str, seqs: range) -> tuple[list[tuple[int, int, int]], list[list[tuple[str, int, int]]]]:
    builder = TimelineBuilder()
    for seq in seqs:
        builder.update(detections_from_proto(detections(camera, seq)))
    timeline = builder.finish()
    tracks = [(t.track_id, t.first_seq, t.last_seq) for t in timeline.tracks]
    segments = [[(s.label, s.start_seq, s.end_seq) for s in t.segments] for t in timeline.tracks]
    return tracks, segments


def stub(target: str) -> timeline_pb2_grpc.TimelineServiceStub:
    return timeline_pb2_grpc.TimelineServiceStub(grpc.insecure_channel(target))


def camera_state(api: timeline_pb2_grpc.TimelineServiceStub, camera: str) -> timeline_pb2.Camera | None:
    for cam in api.ListCameras(timeline_pb2.ListCamerasRequest(), timeout=5).cameras:
        if cam.name == camera:
            return cam
    return None


def wait_frames(api: timeline_pb2_grpc.TimelineServiceStub, camera: str, frames: int) -> timeline_pb2.Camera:
    def done() -> timeline_pb2.Camera | None:
        cam = camera_state(api, camera)
        return cam if cam is not None and cam.frames >= frames else None

    return wait_for(done, 20, f"{camera}: {frames} frames aggregated")


def wait_ended(api: timeline_pb2_grpc.TimelineServiceStub, camera: str) -> timeline_pb2.Camera:
    def done() -> timeline_pb2.Camera | None:
        cam = camera_state(api, camera)
        return cam if cam is not None and cam.ended else None

    return wait_for(done, 20, f"{camera}: stream ended")


# --- tests ----------------------------------------------------------------------------------------------------


def test_every_rpc_and_the_timeline_matches_embedded(
    rdb: redis.Redis, start_service: Callable[..., ServiceThread]
) -> None:
    service = start_service()
    api = stub(service.target)
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(service.target))
    wait_for(
        lambda: (
            health.Check(health_pb2.HealthCheckRequest(service="emostream.v1.TimelineService"), timeout=5).status
            == health_pb2.HealthCheckResponse.SERVING
        ),
        what="SERVING",
    )
    order = list(range(30))
    order[3], order[4], order[10], order[12] = order[4], order[3], order[12], order[10]  # replicas race
    for seq in order:
        publish(rdb, detections("door", seq))
    publish(rdb, detections("door", 7))  # a redelivery: must not count twice
    publish(rdb, end_of_stream("door", 30))
    cam = wait_ended(api, "door")
    assert (cam.frames, cam.active_tracks, cam.first_pts, cam.last_pts) == (30, 0, 0.0, 2.9)

    tracks_expected, segments_expected = embedded("door", range(30))
    response = api.GetTimeline(timeline_pb2.GetTimelineRequest(camera="door", include_frames=True), timeout=5)
    assert list(response.classes) == list(EMOTIONS)
    assert [(t.track.track_id, t.track.first_seq, t.track.last_seq) for t in response.tracks] == tracks_expected
    assert [[(s.label, s.start_seq, s.end_seq) for s in t.segments] for t in response.tracks] == segments_expected
    for track in response.tracks:
        assert [f.seq for f in track.frames] == list(range(track.track.first_seq, track.track.last_seq + 1))
        assert track.track.frame_count == len(track.frames) and not track.track.active

    one = api.GetTimeline(timeline_pb2.GetTimelineRequest(camera="door", track_id=2, start_pts=1.0, end_pts=1.5))
    assert [t.track.track_id for t in one.tracks] == [2] and not one.tracks[0].frames

    page1 = api.ListTracks(timeline_pb2.ListTracksRequest(camera="door", page_size=1))
    page2 = api.ListTracks(timeline_pb2.ListTracksRequest(camera="door", page_size=1, page_token=page1.next_page_token))
    assert [t.track_id for t in page1.tracks] == [1] and [t.track_id for t in page2.tracks] == [2]
    assert page2.next_page_token == ""
    assert not api.ListTracks(timeline_pb2.ListTracksRequest(camera="door", active_only=True)).tracks

    labels = {"camera": "door", "emotion": "happy"}
    assert service.metric("emostream_emotion_frames_total", labels)
    assert service.metric("emostream_frames_skipped_total", {"camera": "door", "reason": "duplicate"}) == 1
    assert service.metric("emostream_events_total", {"camera": "door", "type": "stream_ended"}) == 1
    assert service.metric("emostream_track_duration_seconds_count", {"camera": "door"}) == 2
    assert service.metric("emostream_pipeline_latency_seconds_count", {"camera": "door"}) == 30
    wait_for(lambda: service.metric("emostream_stream_lag", {"camera": "door", "group": "aggregator"}) == 0,
             what="lag gauge")  # fmt: skip
    assert rdb.xpending(detections_stream("door"), AGGREGATOR_GROUP)["pending"] == 0


@pytest.mark.parametrize(
    ("call", "request_", "code", "fragment"),
    [
        ("ListTracks", timeline_pb2.ListTracksRequest(), grpc.StatusCode.INVALID_ARGUMENT, "camera is required"),
        ("ListTracks", timeline_pb2.ListTracksRequest(camera="a b"), grpc.StatusCode.INVALID_ARGUMENT, "camera name"),
        ("ListTracks", timeline_pb2.ListTracksRequest(camera="nowhere"), grpc.StatusCode.NOT_FOUND, "unknown"),
        ("ListTracks", timeline_pb2.ListTracksRequest(camera="gate", page_token="x"),
         grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
        ("GetTimeline", timeline_pb2.GetTimelineRequest(camera="nowhere"), grpc.StatusCode.NOT_FOUND, "unknown"),
        ("GetTimeline", timeline_pb2.GetTimelineRequest(camera="gate", track_id=99), grpc.StatusCode.NOT_FOUND,
         "no track 99"),
        ("GetTimeline", timeline_pb2.GetTimelineRequest(camera="gate", start_pts=2, end_pts=1),
         grpc.StatusCode.INVALID_ARGUMENT, "start_pts"),
    ],
)  # fmt: skip
def test_error_codes(
    rdb: redis.Redis, start_service: Callable[..., ServiceThread], call: str, request_: object,
    code: grpc.StatusCode, fragment: str,
) -> None:  # fmt: skip
    service = start_service()
    api = stub(service.target)
    publish(rdb, detections("gate", 0))
    wait_frames(api, "gate", 1)
    with pytest.raises(grpc.RpcError) as caught:
        getattr(api, call)(request_, timeout=5)
    assert caught.value.code() == code
    assert fragment in caught.value.details()


def test_watch_events_live_and_resumed(rdb: redis.Redis, start_service: Callable[..., ServiceThread]) -> None:
    service = start_service()
    api = stub(service.target)
    with pytest.raises(grpc.RpcError) as caught:
        next(iter(api.WatchEvents(timeline_pb2.WatchEventsRequest(after_id="yesterday"), timeout=5)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    received: list[stream_pb2.Event] = []
    call = api.WatchEvents(timeline_pb2.WatchEventsRequest(cameras=["hall"]), timeout=30)

    def consume() -> None:
        try:
            for event in call:
                received.append(event)
        except grpc.RpcError:
            pass

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    time.sleep(0.3)  # the call is a stream without a "subscribed" message: give it time to start reading
    for seq in range(30):
        publish(rdb, detections("hall", seq))
    publish(rdb, end_of_stream("hall", 30))
    wait_for(lambda: any(e.type == stream_pb2.EVENT_TYPE_STREAM_ENDED for e in received), what="stream_ended")
    call.cancel()
    types = [e.type for e in received]
    assert types.count(stream_pb2.EVENT_TYPE_TRACK_STARTED) == 2 and types.count(stream_pb2.EVENT_TYPE_TRACK_ENDED) == 2
    assert stream_pb2.EVENT_TYPE_EMOTION_CHANGED in types
    assert all(e.camera == "hall" and e.id for e in received)

    # resume after the first event: everything after it, and only the types asked for
    resumed = api.WatchEvents(
        timeline_pb2.WatchEventsRequest(after_id=received[0].id, types=[stream_pb2.EVENT_TYPE_STREAM_ENDED]), timeout=10
    )
    first = next(iter(resumed))
    resumed.cancel()
    assert first.type == stream_pb2.EVENT_TYPE_STREAM_ENDED and first.id == received[-1].id


def test_restart_keeps_state_and_never_counts_twice(
    rdb: redis.Redis, start_service: Callable[..., ServiceThread]
) -> None:
    first = start_service("agg-a")
    api = stub(first.target)
    for seq in range(18):
        publish(rdb, detections("yard", seq))
    wait_frames(api, "yard", 18)
    first.stop()

    # a dead replica held entries 18..21 (delivered, never acknowledged) and the camera's lease
    for seq in range(18, 22):
        publish(rdb, detections("yard", seq))
    rdb.xreadgroup(AGGREGATOR_GROUP, "agg-dead", {detections_stream("yard"): ">"}, count=10)
    rdb.set(timeline_key("yard", "lease"), "agg-dead", px=1000)
    for seq in (*range(10, 18), *range(22, 30)):  # redeliveries of applied frames, then new ones
        publish(rdb, detections("yard", seq))
    publish(rdb, end_of_stream("yard", 30))

    second = start_service("agg-b")
    api = stub(second.target)
    cam = wait_ended(api, "yard")
    assert cam.frames == 30
    tracks_expected, segments_expected = embedded("yard", range(30))
    response = api.GetTimeline(timeline_pb2.GetTimelineRequest(camera="yard", include_frames=True), timeout=5)
    assert [(t.track.track_id, t.track.first_seq, t.track.last_seq) for t in response.tracks] == tracks_expected
    assert [[(s.label, s.start_seq, s.end_seq) for s in t.segments] for t in response.tracks] == segments_expected
    for track in response.tracks:
        assert [f.seq for f in track.frames] == list(range(track.track.first_seq, track.track.last_seq + 1))
    assert second.metric("emostream_frames_skipped_total", {"camera": "yard", "reason": "duplicate"}) == 8
    assert rdb.xpending(detections_stream("yard"), AGGREGATOR_GROUP)["pending"] == 0
    events = rdb.xrange(events_stream("yard"))
    kinds = [stream_pb2.Event.FromString(f[PAYLOAD_FIELD.encode()]).type for _, f in events]
    assert kinds.count(stream_pb2.EVENT_TYPE_TRACK_STARTED) == 2 and kinds.count(stream_pb2.EVENT_TYPE_TRACK_ENDED) == 2


def test_serve_and_client_commands_with_a_token(rdb: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    import json
    import os
    import signal
    import sys

    token = tmp_path / "token"
    token.write_text("s3cret\n")
    port, metrics_port = free_port(), free_port()
    target = f"127.0.0.1:{port}"
    env = os.environ | {"PYTHONUNBUFFERED": "1", "EMOSTREAM_AGGREGATOR_DISCOVER_INTERVAL_S": "0.1"}
    cli = [sys.executable, "-m", "emostream.cli"]
    server = subprocess.Popen(
        [*cli, "serve", "aggregator", "--redis-url", redis_url, "--port", str(port),
         "--metrics-port", str(metrics_port), "--token-file", str(token), "--consumer", "cli"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        health = health_pb2_grpc.HealthStub(grpc.insecure_channel(target))

        def serving() -> bool:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
            except grpc.RpcError:
                return False
            return bool(status == health_pb2.HealthCheckResponse.SERVING)

        wait_for(serving, 30, "the aggregator process SERVING")
        for seq in range(30):
            publish(rdb, detections("lobby", seq))
        publish(rdb, end_of_stream("lobby", 30))

        def client(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*cli, "client", *args, "--target", target], capture_output=True, text=True,
                                  env=env, timeout=60, check=False)  # fmt: skip

        refused = client("timeline")
        assert refused.returncode == 2 and "UNAUTHENTICATED" in refused.stderr
        wait_for(lambda: "ended" in client("timeline", "--token-file", str(token)).stdout, 20, "lobby ended")
        doc = json.loads(client("timeline", "lobby", "--json", "--token-file", str(token)).stdout)
        assert [t["track"]["track_id"] for t in doc["tracks"]] == ["1", "2"]  # int64 is a string in proto JSON
        listed = client("timeline", "lobby", "--tracks", "--token-file", str(token)).stdout
        assert "track 1:" in listed and "track 2:" in listed
        missing = client("timeline", "nowhere", "--token-file", str(token))
        assert missing.returncode == 2 and "NOT_FOUND" in missing.stderr

        watch = subprocess.Popen(
            [*cli, "client", "watch", "lobby", "--after", "0", "--type", "stream_ended", "--target", target,
             "--token-file", str(token)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert watch.stdout is not None
        line = watch.stdout.readline()
        watch.send_signal(signal.SIGINT)
        assert watch.wait(20) == 0
        assert "lobby seq=30" in line and "stream_ended" in line

        import urllib.request

        def scraped() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
                text: str = response.read().decode()
            return text if 'emostream_stream_lag{camera="lobby",group="aggregator"} 0.0' in text else ""

        text = str(wait_for(scraped, 10, "lag on /metrics"))
        for name in ('emostream_emotion_frames_total{camera="lobby",emotion="happy"}',
                     'emostream_active_tracks{camera="lobby"} 0.0',
                     'emostream_track_duration_seconds_count{camera="lobby"} 2.0',
                     'emostream_events_total{camera="lobby",type="track_started"} 2.0',
                     'emostream_pipeline_latency_seconds_bucket{camera="lobby"'):  # fmt: skip
            assert name in text, name
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(30)
        output = server.stdout.read() if server.stdout else ""
    assert code == 0, output
    assert "event=stopped" in output


def test_two_replicas_share_the_cameras_and_take_over(
    rdb: redis.Redis, start_service: Callable[..., ServiceThread]
) -> None:
    a, b = start_service("agg-a"), start_service("agg-b")
    cameras = ["c1", "c2", "c3", "c4"]
    for seq in range(10):
        for camera in cameras:
            publish(rdb, detections(camera, seq))
    api = stub(a.target)
    for camera in cameras:
        wait_frames(api, camera, 10)
    owners = {camera: rdb.get(timeline_key(camera, "lease")) for camera in cameras}
    assert set(owners.values()) <= {b"agg-a", b"agg-b"}
    assert set(a.service.workers).isdisjoint(b.service.workers)
    assert set(a.service.workers) | set(b.service.workers) == set(cameras)

    a.stop()  # its leases are released: b takes its cameras over and finishes them
    for camera in cameras:
        for seq in range(10, 30):
            publish(rdb, detections(camera, seq))
        publish(rdb, end_of_stream(camera, 30))
    api = stub(b.target)
    expected_tracks, expected_segments = embedded("c1", range(30))
    for camera in cameras:
        assert wait_ended(api, camera).frames == 30
        response = api.GetTimeline(timeline_pb2.GetTimelineRequest(camera=camera), timeout=5)
        assert [(t.track.track_id, t.track.first_seq, t.track.last_seq) for t in response.tracks] == expected_tracks
        assert [[(s.label, s.start_seq, s.end_seq) for s in t.segments] for t in response.tracks] == expected_segments


def test_redis_restart_is_survived(tmp_path: Path) -> None:
    port = free_port()
    argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--dir", str(tmp_path)]  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis(port=port)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service: ServiceThread | None = None
    try:
        wait_for(up, 10, "redis-server")
        service = ServiceThread(settings_for(url, "agg-r"))
        api = stub(service.target)
        health = health_pb2_grpc.HealthStub(grpc.insecure_channel(service.target))

        def status() -> int:
            return int(health.Check(health_pb2.HealthCheckRequest(), timeout=5).status)

        for seq in range(10):
            publish(client, detections("dock", seq))
        wait_frames(api, "dock", 10)
        proc.terminate()
        proc.wait(10)
        wait_for(lambda: status() == health_pb2.HealthCheckResponse.NOT_SERVING, 20, "NOT_SERVING without Redis")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(up, 10, "redis-server again")
        wait_for(lambda: status() == health_pb2.HealthCheckResponse.SERVING, 20, "SERVING again")
        for seq in range(10, 30):
            publish(client, detections("dock", seq))
        publish(client, end_of_stream("dock", 30))
        assert wait_ended(api, "dock").frames == 30
        tracks = api.GetTimeline(timeline_pb2.GetTimelineRequest(camera="dock"), timeout=5).tracks
        assert [(t.track.track_id, t.track.first_seq, t.track.last_seq) for t in tracks] == embedded("dock", range(30))[
            0
        ]
    finally:
        if service is not None:
            service.stop()
        client.close()
        proc.terminate()
        proc.wait(10)
