"""Capture -> Redis -> detector -> classifier with real servers on loopback (free ports, stopped by pid):
frames of a real video arrive as Detections identical to the in-process stage's, poison entries are
dead-lettered, a killed detector's entries are claimed, outages of the classifier and Redis heal, and a live
backlog costs frames, not latency."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import redis

from emostream.capture.publisher import FramePublisher, PublishOptions, publish_video
from emostream.capture.video_file import VideoFileReader
from emostream.components import PipelineSettings, build_stage
from emostream.core.types import Frame
from emostream.protos.v1 import stream_pb2
from emostream.stack.probes import http_status
from emostream.stack.stack import Stack
from emostream.transport.backpressure import Backpressure, ensure_group
from emostream.transport.codec import (
    ImageEncoding,
    decode_detections,
    detections_to_proto,
    encode_entry,
    frame_to_proto,
)
from emostream.transport.keys import DEAD_LETTER_STREAM, DETECTOR_GROUP, detections_stream, frames_stream
from tests.integration.stack import MakeStack, client_of, make_stack, metric_value, scrape, wait_for

__all__ = ["make_stack"]  # the fixture, imported for pytest

BASIC = ("redis", "classifier", "detector")


@pytest.fixture(scope="module")
def woman(videos: Path) -> Path:
    path = videos / "fer_woman2.mp4"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


def detections_of(client: redis.Redis, camera: str) -> list[stream_pb2.Detections]:
    return [decode_detections(fields) for _, fields in client.xrange(detections_stream(camera))]


def pending_by_consumer(client: redis.Redis, camera: str) -> dict[str, int]:
    info = client.xpending(frames_stream(camera), DETECTOR_GROUP)
    return {c["name"].decode(): int(c["pending"]) for c in info["consumers"]}


def detector_healthz(stack: Stack, index: int = 0) -> int | None:
    return http_status(f"http://127.0.0.1:{stack.config.ports.detector_metrics[index]}/healthz")


def publish_first(client: redis.Redis, camera: str, video: Path, count: int) -> None:
    publisher = FramePublisher(client, camera, Backpressure.replay(high_water=1000), PublishOptions())
    with VideoFileReader(video, camera=camera) as reader:
        for frame, _ in zip(reader, range(count), strict=False):
            publisher.publish(frame)


def test_replayed_frames_become_the_same_detections_as_in_process(make_stack: MakeStack, woman: Path) -> None:
    stack = make_stack(BASIC)
    client = client_of(stack)
    frames = publish_video(client, "woman", woman, high_water=16)
    remote = wait_for(lambda: (d := detections_of(client, "woman")) and d[-1].end_of_stream and d, 300,
                      "the end-of-stream Detections")  # fmt: skip
    assert isinstance(remote, list)
    by_seq = {d.seq: d for d in remote if not d.end_of_stream}
    assert sorted(by_seq) == list(range(frames)) and remote[-1].seq == frames

    stage = build_stage(PipelineSettings())  # the embedded pipeline's stage, with its in-process classifier
    info = stage.classifier.info
    with VideoFileReader(woman, camera="woman") as reader:
        for frame in reader:
            thorough = frame.meta.seq % stage.rhythm(frame.image.shape[:2]) == 0
            local = detections_to_proto(stage.process(frame), info.classes, info.version, thorough)
            got = by_seq[frame.meta.seq]
            assert (got.pts, got.width, got.height, got.thorough) == (local.pts, local.width, local.height, thorough)
            assert [f.box for f in got.faces] == [f.box for f in local.faces], f"seq {frame.meta.seq}"
            assert [f.label for f in got.faces] == [f.label for f in local.faces]
            for mine, theirs in zip(got.faces, local.faces, strict=True):
                np.testing.assert_allclose(mine.probabilities, theirs.probabilities, atol=1e-5)
    assert sum(bool(d.faces) for d in by_seq.values()) > 0.9 * frames, "she is in nearly every frame"
    assert not client.keys("emostream:image:*"), "claim-checked images are deleted once acknowledged"
    text = scrape(stack.config.ports.detector_metrics[0])
    assert metric_value(text, "emostream_detector_frames_total", camera="woman") == frames


def test_a_malformed_entry_is_dead_lettered_and_counted(make_stack: MakeStack, woman: Path) -> None:
    stack = make_stack(BASIC)
    client = client_of(stack)
    publish_first(client, "poison", woman, 1)
    client.xadd(frames_stream("poison"), {"pb": b"\x08\x01\x12 this is not a Frame"})
    publish_first(client, "poison", woman, 1)
    wait_for(lambda: client.xlen(DEAD_LETTER_STREAM) == 1 and len(detections_of(client, "poison")) == 2, 120,
             "one dead letter and two Detections")  # fmt: skip
    [(_, letter)] = client.xrange(DEAD_LETTER_STREAM)
    assert letter[b"reason"] == b"malformed" and letter[b"stage"] == b"detector"
    assert client.xpending(frames_stream("poison"), DETECTOR_GROUP)["pending"] == 0
    port = stack.config.ports.detector_metrics[0]
    wait_for(lambda: metric_value(scrape(port), "emostream_dead_letters_total", stage="detector", reason="malformed")
             == 1, 10, "the dead letter counted")  # fmt: skip


def test_classifier_down_entries_stay_pending_then_complete(make_stack: MakeStack, woman: Path) -> None:
    stack = make_stack(BASIC)
    client = client_of(stack)
    wait_for(lambda: detector_healthz(stack) == 200, 60, "a healthy detector")
    stack.stop_service("classifier")
    wait_for(lambda: detector_healthz(stack) == 503, 30, "health to say the classifier is gone")
    publish_first(client, "outage", woman, 3)
    wait_for(lambda: sum(pending_by_consumer(client, "outage").values()) == 1, 60, "an entry held pending")
    assert not detections_of(client, "outage")
    stack.start_service("classifier")
    wait_for(lambda: len(detections_of(client, "outage")) == 3, 120, "all three frames after the restart")
    assert client.xpending(frames_stream("outage"), DETECTOR_GROUP)["pending"] == 0
    wait_for(lambda: detector_healthz(stack) == 200, 30, "health back to SERVING")


def test_a_killed_detectors_pending_entries_are_claimed_by_another(make_stack: MakeStack, woman: Path) -> None:
    stack = make_stack(BASIC, detectors=2, claim_idle_ms=1500)
    client = client_of(stack)
    stack.stop_service("classifier")  # each detector then holds the entry it read, pending
    publish_first(client, "takeover", woman, 4)
    held = wait_for(lambda: (p := pending_by_consumer(client, "takeover")).get("detector-0") and p, 60,
                    "detector-0 to hold an entry")  # fmt: skip
    assert isinstance(held, dict)
    [entry] = client.xpending_range(frames_stream("takeover"), DETECTOR_GROUP, "-", "+", 10, "detector-0")
    stack.stop_service("detector-0", kill=True)  # SIGKILL: no chance to hand anything back
    stack.start_service("classifier")
    wait_for(lambda: len(detections_of(client, "takeover")) == 4, 180, "all four frames, the dead one's included")
    assert client.xpending(frames_stream("takeover"), DETECTOR_GROUP)["pending"] == 0
    assert "event=claimed" in stack.tail("detector-1", 200)
    assert entry["message_id"]


def test_services_reconnect_after_redis_restarts(make_stack: MakeStack, woman: Path) -> None:
    stack = make_stack((*BASIC, "capture"), camera_url=str(woman), camera="restart",
                       env={"EMOSTREAM_CAPTURE_HIGH_WATER": "8"})  # fmt: skip
    client = client_of(stack)
    wait_for(lambda: client.xlen(detections_stream("restart")) >= 30, 120, "the first detections")
    stack.stop_service("redis")
    wait_for(lambda: detector_healthz(stack) == 503, 30, "the detector to notice Redis is gone")
    stack.start_service("redis")
    client = client_of(stack)
    remote = wait_for(lambda: (d := detections_of(client, "restart")) and d[-1].end_of_stream and d, 300,
                      "the end of the replay, after the restart")  # fmt: skip
    assert isinstance(remote, list)
    assert {d.seq for d in remote if not d.end_of_stream} == set(range(remote[-1].seq)), "no frame lost"
    wait_for(lambda: detector_healthz(stack) == 200, 30, "the detector healthy again")


def test_a_live_backlog_is_answered_by_its_newest_frame(make_stack: MakeStack, woman: Path) -> None:
    stack = make_stack(BASIC)
    client = client_of(stack)
    with VideoFileReader(woman, camera="live") as reader:
        frames = [frame for frame, _ in zip(reader, range(11), strict=False)]

    def add_live(*batch: Frame) -> None:
        with client.pipeline(transaction=True) as pipe:
            for frame in batch:
                message = frame_to_proto(frame, ImageEncoding.JPEG)
                message.live, message.wall_time = True, time.time()
                pipe.xadd(frames_stream("live"), encode_entry(message))
            pipe.execute()

    ensure_group(client, frames_stream("live"), DETECTOR_GROUP)
    add_live(frames[0])  # the detector finds the camera (answered, classified or too old by then)
    wait_for(lambda: len(detections_of(client, "live")) == 1, 120, "the first Detections")
    add_live(*frames[1:])  # ten live frames at once: a backlog
    out = wait_for(lambda: len(d := detections_of(client, "live")) == 11 and d[1:], 120, "eleven Detections")
    assert isinstance(out, list)
    assert sorted(d.seq for d in out) == list(range(1, 11))
    assert [d.seq for d in out if not d.skipped] == [10] and out[-1].faces, "only the newest classified"
    assert client.xpending(frames_stream("live"), DETECTOR_GROUP)["pending"] == 0
    text = scrape(stack.config.ports.detector_metrics[0])
    skipped = {r: metric_value(text, "emostream_detector_frames_skipped_total", camera="live", reason=r)
               for r in ("stale", "max_age")}  # fmt: skip
    classified = metric_value(text, "emostream_detector_frames_total", camera="live")
    assert skipped["stale"] == 9 and (classified, skipped["max_age"]) in ((2, 0), (1, 1))
