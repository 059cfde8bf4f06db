"""The detector worker against a (fake) Redis and a fake stage: at-least-once, dead letters, outages, takeover,
and live frames (newest frame wins, replay never skipped)."""

from __future__ import annotations

import threading
import time

import fakeredis
import numpy as np
import pytest

from emostream.capture.publisher import FramePublisher, PublishOptions
from emostream.core.types import AlignedFace, Frame, FrameMeta
from emostream.detector.worker import DetectorWorker
from emostream.protos.v1 import stream_pb2
from emostream.transport.backpressure import Backpressure
from emostream.transport.codec import ImageEncoding, decode_detections, decode_frame, encode_entry, end_of_stream_frame
from emostream.transport.keys import DEAD_LETTER_STREAM, DETECTOR_GROUP, detections_stream, frames_stream

from .conftest import MakeWorker, wait_for

CAM = "cam1"


def publish(client: fakeredis.FakeRedis, count: int, end: bool = False, inline_max_bytes: int = 1 << 20) -> None:
    publisher = FramePublisher(client, CAM, Backpressure.replay(high_water=1000),
                               PublishOptions(inline_max_bytes=inline_max_bytes))  # fmt: skip
    for seq in range(count):
        image = np.full((24, 32, 3), seq, np.uint8)
        publisher.publish(Frame(FrameMeta(CAM, seq, seq / 25, 1.0, 32, 24), image))
    if end:
        publisher.publish_end(count, count / 25)


def drain(worker: DetectorWorker, rounds: int = 20) -> None:
    worker.discover()
    for _ in range(rounds):
        worker.read()


def detections(client: fakeredis.FakeRedis) -> list[stream_pb2.Detections]:
    return [decode_detections(fields) for _, fields in client.xrange(detections_stream(CAM))]


def pending(client: fakeredis.FakeRedis) -> int:
    return int(client.xpending(frames_stream(CAM), DETECTOR_GROUP)["pending"])


def test_every_frame_becomes_detections_and_is_acknowledged(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish(client, 6, end=True, inline_max_bytes=0)  # every image by claim check
    worker = make_worker()
    drain(worker)
    out = detections(client)
    assert [d.seq for d in out] == [0, 1, 2, 3, 4, 5, 6]
    assert out[-1].end_of_stream and not out[0].end_of_stream
    assert [d.thorough for d in out[:6]] == [True, False, False, False, False, True]
    assert out[0].model_version == "7" and out[0].faces[0].label == "happy"
    assert pending(client) == 0
    assert not client.keys("emostream:image:*"), "claim-checked images are deleted with the XACK"
    assert worker.metrics.registry.get_sample_value("emostream_detector_frames_total", {"camera": CAM}) == 6


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"pb": b"\xff\xfe garbage"}, "malformed"),
        ({"nothing": b"x"}, "missing_payload"),
        (encode_entry(stream_pb2.Frame(schema_version=1, camera=CAM, image=b"nope")), "bad_image"),
        (encode_entry(stream_pb2.Frame(schema_version=1, camera="other", image=b"x")), "malformed"),
        (encode_entry(stream_pb2.Frame(schema_version=1, camera=CAM, image_key="emostream:image:{cam1}:0:x")),
         "image_expired"),
    ],
)  # fmt: skip
def test_poison_entries_go_to_the_dead_letter_stream_and_are_acknowledged(
    client: fakeredis.FakeRedis, make_worker: MakeWorker, fields: dict[str, bytes], reason: str
) -> None:
    publish(client, 1)
    client.xadd(frames_stream(CAM), fields)
    publish(client, 1)
    worker = make_worker()
    drain(worker)
    [(_, letter)] = client.xrange(DEAD_LETTER_STREAM)
    assert letter[b"reason"] == reason.encode() and letter[b"stage"] == b"detector"
    assert len(detections(client)) == 2 and pending(client) == 0
    count = worker.metrics.registry.get_sample_value("emostream_dead_letters_total", {"stage": "detector",
                                                                                      "reason": reason})  # fmt: skip
    assert count == 1


def test_classifier_down_keeps_the_entry_pending_until_it_is_back(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    worker = make_worker()
    worker.stage.classifier.down = True  # type: ignore[attr-defined]
    publish(client, 2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    wait_for(lambda: "classifier" in worker.health.checks and not worker.health.checks["classifier"].ok)
    assert pending(client) == 1 and not detections(client)
    worker.stage.classifier.down = False  # type: ignore[attr-defined]
    wait_for(lambda: len(detections(client)) == 2 and pending(client) == 0, timeout=15)
    assert worker.health.checks["classifier"].ok
    worker.stop.set()
    thread.join(5)


def test_a_dead_consumers_pending_entries_are_claimed(client: fakeredis.FakeRedis, make_worker: MakeWorker) -> None:
    publish(client, 3)
    worker = make_worker("survivor")
    worker.discover()
    dead = client.xreadgroup(DETECTOR_GROUP, "dead", {frames_stream(CAM): ">"}, count=2)  # read, never acked
    assert len(dead[0][1]) == 2
    claimed = 0

    def claim() -> bool:
        nonlocal claimed
        claimed += worker.claim()
        return claimed == 2

    wait_for(claim, timeout=10)
    drain(worker)
    assert sorted(d.seq for d in detections(client)) == [0, 1, 2]
    assert pending(client) == 0


def test_end_of_stream_alone_is_forwarded(client: fakeredis.FakeRedis, make_worker: MakeWorker) -> None:
    client.xadd(frames_stream(CAM), encode_entry(end_of_stream_frame(CAM, 0, 0.0, 1.0)))
    worker = make_worker()
    drain(worker, rounds=3)
    [out] = detections(client)
    assert out.end_of_stream and out.model_version == "7"


def test_a_restarted_consumer_first_finishes_its_own_pending_entries(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish(client, 3)
    worker = make_worker("d1")
    worker.discover()
    client.xreadgroup(DETECTOR_GROUP, "d1", {frames_stream(CAM): ">"}, count=2)  # then "crashed" before XACK
    assert worker.recover() == 2
    assert sorted(d.seq for d in detections(client)) == [0, 1] and pending(client) == 0
    assert worker.recover() == 0


def test_an_entry_the_stage_fails_on_is_dead_lettered_not_fatal(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish(client, 2)
    worker = make_worker()
    stage = worker.stage
    original = stage.detect

    def fail_on_first(frame: Frame, thorough: bool | None = None) -> list[AlignedFace]:
        if frame.meta.seq == 0:
            raise ValueError("a bug")
        return original(frame, thorough)

    stage.detect = fail_on_first  # type: ignore[method-assign]
    drain(worker, rounds=4)
    [(_, letter)] = client.xrange(DEAD_LETTER_STREAM)
    assert letter[b"reason"] == b"processing_failed" and b"a bug" in letter[b"detail"]
    assert [d.seq for d in detections(client)] == [1] and pending(client) == 0


# --- live frames: newest frame wins ------------------------------------------------------------------------


def publish_live(client: fakeredis.FakeRedis, seqs: range, age_s: float = 0.0) -> None:
    """Live frames (JPEG, capped stream) captured ``age_s`` ago."""
    publisher = FramePublisher(client, CAM, Backpressure.live(maxlen=1000), PublishOptions(ImageEncoding.JPEG))
    for seq in seqs:
        image = np.full((24, 32, 3), seq, np.uint8)
        publisher.publish(Frame(FrameMeta(CAM, seq, seq / 30, time.time() - age_s, 32, 24), image))


def skipped_count(worker: DetectorWorker, reason: str) -> float | None:
    return worker.metrics.registry.get_sample_value("emostream_detector_frames_skipped_total",
                                                    {"camera": CAM, "reason": reason})  # fmt: skip


def test_a_live_backlog_is_answered_by_its_newest_frame_and_the_rest_skipped(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish_live(client, range(10))
    worker = make_worker()
    worker.discover()
    assert skipped_count(worker, "stale") == skipped_count(worker, "max_age") == 0, "at 0 once the camera is found"
    assert all(decode_frame(f).live for _, f in client.xrange(frames_stream(CAM)))
    assert worker.read() == 10  # one read: the newest classified, the other nine skipped
    assert worker.stage.seen == [9]  # type: ignore[attr-defined]
    out = detections(client)
    assert sorted(d.seq for d in out) == list(range(10)), "every seq answered: the aggregator never waits"
    assert [d.seq for d in out if d.skipped] == list(range(9))
    assert all(not d.faces for d in out if d.skipped) and all(d.live for d in out)
    [newest] = [d for d in out if not d.skipped]
    assert newest.seq == 9 and newest.faces and newest.thorough  # the camera's first processed frame
    assert pending(client) == 0
    assert skipped_count(worker, "stale") == 9 and skipped_count(worker, "max_age") == 0
    assert worker.metrics.registry.get_sample_value("emostream_detector_frames_total", {"camera": CAM}) == 1


def test_a_replay_backlog_is_never_skipped(client: fakeredis.FakeRedis, make_worker: MakeWorker) -> None:
    publish(client, 10)
    worker = make_worker()
    drain(worker)
    assert worker.stage.seen == list(range(10))  # type: ignore[attr-defined]
    out = detections(client)
    assert [d.seq for d in out] == list(range(10)) and not any(d.skipped or d.live for d in out)
    assert [d.thorough for d in out] == [seq % 5 == 0 for seq in range(10)], "the embedded pipeline's rhythm"
    assert skipped_count(worker, "stale") == 0


def test_live_frames_past_the_max_age_are_skipped_even_the_newest(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish_live(client, range(3), age_s=5.0)
    publish(client, 0, end=True)  # then the file played live ends
    worker = make_worker(live_max_age_ms=1000)
    drain(worker, rounds=3)
    assert worker.stage.seen == []  # type: ignore[attr-defined]
    out = detections(client)
    assert [(d.seq, d.skipped, d.end_of_stream) for d in out] == [
        (0, True, False), (1, True, False), (2, True, False), (0, False, True)
    ]  # fmt: skip
    assert skipped_count(worker, "stale") == 2 and skipped_count(worker, "max_age") == 1
    assert pending(client) == 0


def test_two_replicas_each_classify_the_newest_of_what_they_hold(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish_live(client, range(5))
    first, second = make_worker("d1"), make_worker("d2")
    first.discover()
    second.discover()
    client.xreadgroup(DETECTOR_GROUP, "d1", {frames_stream(CAM): ">"}, count=5)  # d1's batch, in hand
    publish_live(client, range(5, 10))
    assert second.read() == 5  # d2 takes what nobody holds: 5..9
    assert first.recover() == 5  # d1 finishes its own: 0..4
    assert second.stage.seen == [9] and first.stage.seen == [4]  # type: ignore[attr-defined]
    out = detections(client)
    assert sorted(d.seq for d in out) == list(range(10)), "each seq answered exactly once"
    assert sorted(d.seq for d in out if not d.skipped) == [4, 9], "the stream's newest is never skipped"
    assert pending(client) == 0


def test_a_dead_replicas_live_entries_are_claimed_and_skipped_once_too_old(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    publish_live(client, range(2))
    worker = make_worker("survivor", live_max_age_ms=50)
    worker.discover()
    client.xreadgroup(DETECTOR_GROUP, "dead", {frames_stream(CAM): ">"}, count=2)
    claimed = 0

    def claim() -> bool:
        nonlocal claimed
        claimed += worker.claim()
        return claimed == 2

    wait_for(claim, timeout=10)  # idle for claim_idle_ms (100 ms): older than 50 ms by then
    assert worker.stage.seen == []  # type: ignore[attr-defined]
    assert [d.skipped for d in detections(client)] == [True, True] and pending(client) == 0
    assert skipped_count(worker, "max_age") == 2


def test_a_live_frame_held_while_the_classifier_is_down_expires_for_a_newer_one(
    client: fakeredis.FakeRedis, make_worker: MakeWorker
) -> None:
    worker = make_worker(live_max_age_ms=300)
    worker.stage.classifier.down = True  # type: ignore[attr-defined]
    publish_live(client, range(1))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    wait_for(lambda: [d.skipped for d in detections(client)] == [True], timeout=15)
    assert not worker.health.checks["classifier"].ok and skipped_count(worker, "max_age") == 1
    worker.stage.classifier.down = False  # type: ignore[attr-defined]
    publish_live(client, range(1, 2))
    wait_for(lambda: [d.skipped for d in detections(client)] == [True, False], timeout=15)
    assert worker.stage.seen == [1] and pending(client) == 0  # type: ignore[attr-defined]
    worker.stop.set()
    thread.join(5)
