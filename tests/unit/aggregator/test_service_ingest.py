"""The aggregator's camera worker on a fake Redis: reordering, idempotency on (camera, seq) also across a
restart, takeover of a dead owner's pending entries, poison entries, a lost lease, and live frames the detector
skipped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import pytest
from fakeredis import FakeAsyncRedis
from prometheus_client import CollectorRegistry

from emostream.aggregator import TimelineBuilder
from emostream.aggregator.ingest import CameraAggregate, Tally
from emostream.aggregator.lease import CameraLease, lease_key
from emostream.aggregator.metrics import AggregatorMetrics, SkipReason
from emostream.aggregator.settings import AggregatorSettings
from emostream.aggregator.store import Changes, TimelineStore, frames_key
from emostream.aggregator.wire import detections_from_proto
from emostream.aggregator.worker import CameraWorker, LeaseLost
from emostream.core.labels import EMOTIONS
from emostream.protos.v1 import stream_pb2, timeline_pb2
from emostream.transport.codec import detections_to_proto
from emostream.transport.keys import (
    AGGREGATOR_GROUP,
    DEAD_LETTER_STREAM,
    PAYLOAD_FIELD,
    detections_stream,
    events_stream,
)
from tests.unit.aggregator.conftest import make_face, make_frame

CAM = "cam"


def message(seq: int) -> stream_pb2.Detections:
    faces = [make_face(100 + 2 * seq, 100, "happy" if seq < 10 else "sad")]
    if 3 <= seq < 14:
        faces.append(make_face(400, 200, "neutral"))
    return detections_to_proto(make_frame(seq, 10.0, faces), EMOTIONS, "v1", thorough=False)


def end(seq: int) -> stream_pb2.Detections:
    return stream_pb2.Detections(schema_version=1, camera=CAM, seq=seq, pts=seq / 10, end_of_stream=True)


def expected(seqs: Iterable[int]) -> list[tuple[int, int, int, list[tuple[str, int, int]]]]:
    builder = TimelineBuilder()
    for seq in seqs:
        builder.update(detections_from_proto(message(seq)))
    return [(t.track_id, t.first_seq, t.last_seq, [(s.label, s.start_seq, s.end_seq) for s in t.segments])
            for t in builder.finish().tracks]  # fmt: skip


async def publish(redis: FakeAsyncRedis, *messages: stream_pb2.Detections) -> None:
    for m in messages:
        await redis.xadd(detections_stream(CAM), {PAYLOAD_FIELD: m.SerializeToString()})


def skipped_live(seq: int) -> stream_pb2.Detections:
    """What the detector writes for a live frame it skipped (a newer one was waiting)."""
    meta = make_frame(seq, 10.0).meta
    return stream_pb2.Detections(schema_version=1, camera=CAM, seq=seq, pts=meta.pts, wall_time=meta.wall_time,
                                 width=640, height=480, skipped=True)  # fmt: skip


def settings(consumer: str, reorder_wait_s: float = 0.05) -> AggregatorSettings:
    return AggregatorSettings(consumer=consumer, block_ms=5, reorder_wait_s=reorder_wait_s, metrics_port=None)


class Harness:
    def __init__(self, redis: FakeAsyncRedis, consumer: str = "agg-a", reorder_wait_s: float = 0.05) -> None:
        self.redis = redis
        self.settings = settings(consumer, reorder_wait_s)
        self.metrics = AggregatorMetrics(CollectorRegistry())
        self.store = TimelineStore(redis, 3600, 1000)
        self.lease = CameraLease(redis, CAM, consumer, self.settings.lease_ms)

    async def run_until(self, done: Callable[[], Awaitable[bool]], limit_s: float = 10.0) -> CameraWorker:
        assert await self.lease.acquire()
        worker = CameraWorker(self.redis, self.store, self.settings, self.metrics, self.lease)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            async with asyncio.timeout(limit_s):
                while not await done():
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await task
        return worker

    async def ended(self) -> bool:
        state = await self.store.state(CAM)
        return state is not None and state.get("ended") == "1"

    def applied(self, last: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            state = await self.store.state(CAM)
            return state is not None and int(state["last_seq"]) >= last

        return check

    def skipped(self, reason: str) -> float:
        return self.metrics.registry.get_sample_value("emostream_frames_skipped_total",
                                                      {"camera": CAM, "reason": reason}) or 0.0  # fmt: skip

    async def timeline(self) -> list[tuple[int, int, int, list[tuple[str, int, int]]]]:
        tracks = await self.store.tracks(CAM)
        return [(t.track.track_id, t.track.first_seq, t.track.last_seq,
                 [(s.label, s.start_seq, s.end_seq) for s in t.segments]) for t in tracks]  # fmt: skip


def test_reordered_and_redelivered_entries_count_once() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        order = [0, 2, 1, 3, 5, 4, *range(6, 20)]
        await publish(redis, *(message(s) for s in order), message(4), message(11), end(20))
        h = Harness(redis)
        await h.run_until(h.ended)
        assert await h.timeline() == expected(range(20))
        state = await h.store.state(CAM)
        assert state is not None and state["frames"] == "20"
        assert h.skipped("duplicate") == 2
        for track_id, first, last, _ in await h.timeline():
            frames = await redis.lrange(frames_key(CAM, track_id), 0, -1)
            assert [timeline_pb2.TrackFrame.FromString(f).seq for f in frames] == list(range(first, last + 1))
        pending = await redis.xpending(detections_stream(CAM), AGGREGATOR_GROUP)
        assert pending["pending"] == 0

    asyncio.run(scenario())


def test_a_restart_rebuilds_the_state_and_never_counts_twice() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        await publish(redis, *(message(s) for s in range(12)))
        first = Harness(redis, "agg-a")
        await first.run_until(first.applied(11))
        # agg-a dies holding its lease; entries 12..15 were delivered to another dead consumer, never acked
        await publish(redis, *(message(s) for s in range(12, 16)))
        await redis.xreadgroup(AGGREGATOR_GROUP, "agg-dead", {detections_stream(CAM): ">"}, count=10)
        await redis.delete(lease_key(CAM))  # its lease expired
        await publish(redis, *(message(s) for s in range(6, 12)), *(message(s) for s in range(16, 20)), end(20))
        second = Harness(redis, "agg-b")
        await second.run_until(second.ended)
        assert await second.timeline() == expected(range(20))
        assert second.skipped("duplicate") == 6
        state = await second.store.state(CAM)
        assert state is not None and state["frames"] == "20"
        events = [stream_pb2.Event.FromString(f[PAYLOAD_FIELD.encode()]).type
                  for _, f in await redis.xrange(events_stream(CAM))]  # fmt: skip
        assert events.count(stream_pb2.EVENT_TYPE_TRACK_STARTED) == 2
        assert events.count(stream_pb2.EVENT_TYPE_STREAM_ENDED) == 1

    asyncio.run(scenario())


def test_trimmed_history_starts_a_fresh_tracker_with_new_ids() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        await publish(redis, *(message(s) for s in range(8)))
        first = Harness(redis, "agg-a")
        await first.run_until(first.applied(7))
        await redis.xtrim(detections_stream(CAM), maxlen=0)
        await redis.delete(lease_key(CAM))
        await publish(redis, *(message(s) for s in range(8, 20)), end(20))
        second = Harness(redis, "agg-b")
        await second.run_until(second.ended)
        tracks = await second.timeline()
        assert all(t[0] in (1, 2) for t in tracks[:2]) and {t[0] for t in tracks[2:]} <= {3, 4}
        assert all(not t.track.active for t in await second.store.tracks(CAM))

    asyncio.run(scenario())


def test_poison_entries_go_to_the_dead_letter_stream() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        await redis.xadd(detections_stream(CAM), {PAYLOAD_FIELD: b"\xff\x00 not protobuf"})
        await redis.xadd(detections_stream(CAM), {"other": b"x"})
        await publish(redis, message(0), end(1))
        h = Harness(redis)
        await h.run_until(h.ended)
        dead = await redis.xrange(DEAD_LETTER_STREAM)
        assert [f[b"reason"] for _, f in dead] == [b"malformed", b"missing_payload"]
        assert h.skipped("dead_letter") == 2

    asyncio.run(scenario())


def test_a_lost_lease_stops_the_worker_before_it_writes() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        h = Harness(redis)
        await h.lease.acquire()
        await redis.set(lease_key(CAM), "someone-else")
        assert not await h.store.commit(CAM, Changes(state={"frames": 1}), "agg-a")
        await publish(redis, message(0))
        worker = CameraWorker(redis, h.store, h.settings, h.metrics, h.lease)
        with pytest.raises(LeaseLost):
            await worker.run(asyncio.Event())
        assert await h.store.state(CAM) is None

    asyncio.run(scenario())


def test_aggregate_tallies_what_it_changes() -> None:
    aggregate = CameraAggregate(CAM, clock=lambda: 1_700_000_100.0)
    changes, tally = Changes(), Tally()
    for seq in range(20):
        aggregate.apply(message(seq), changes, tally)
    aggregate.apply(end(20), changes, tally)
    assert aggregate.ended and aggregate.active_tracks == 0
    assert sum(tally.emotions.values()) == sum(len(v) for v in changes.frames.values())
    assert tally.events["track_started"] == tally.events["track_ended"] == 2
    assert tally.events["stream_ended"] == 1 and len(tally.durations) == 2 and len(tally.latencies) == 20
    assert changes.state["ended"] == 1 and changes.state["frames"] == 20


LIVE = [*range(0, 4), *range(19, 30)]  # seqs the detector classified; 4..18 (1.5 s, > max_age_s) it skipped


def live_entries() -> list[stream_pb2.Detections]:
    return [message(s) if s in LIVE else skipped_live(s) for s in range(30)]


def test_skipped_live_frames_release_the_reorder_buffer_without_feeding_the_tracker() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        await publish(redis, *live_entries(), end(30))
        h = Harness(redis, reorder_wait_s=60.0)  # a gap would hold the camera for a minute
        await h.run_until(h.ended, limit_s=10.0)
        # not observed, not empty: the track across the skipped stretch lives on (an empty frame per skipped
        # seq would have lost it for longer than max_age_s and started a new one)
        assert await h.timeline() == expected(LIVE)
        [(_, first, last, _)] = await h.timeline()
        assert (first, last) == (0, 29)
        for track_id, _, _, _ in await h.timeline():
            frames = await redis.lrange(frames_key(CAM, track_id), 0, -1)
            seqs = {timeline_pb2.TrackFrame.FromString(f).seq for f in frames}
            assert not seqs & set(range(4, 19)), "no record for a frame nobody looked at"
        state = await h.store.state(CAM)
        assert state is not None and state["frames"] == str(len(LIVE))
        assert h.skipped("stale_live") == 15 and h.skipped("gap") == 0
        latency = h.metrics.registry.get_sample_value("emostream_pipeline_latency_seconds_count", {"camera": CAM})
        assert latency == len(LIVE), "only classified frames have a pipeline latency"
        pending = await redis.xpending(detections_stream(CAM), AGGREGATOR_GROUP)
        assert pending["pending"] == 0

    asyncio.run(scenario())


def test_a_restart_amid_skipped_live_frames_rebuilds_the_same_state() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        entries = live_entries()
        await publish(redis, *entries[:12])
        first = Harness(redis, "agg-a")
        await first.run_until(first.applied(11))
        state = await first.store.state(CAM)
        assert state is not None and state["last_seq"] == "11", "a skipped seq is released (and persisted)"
        await redis.delete(lease_key(CAM))  # agg-a died; its lease expired
        await publish(redis, *entries[12:], end(30))
        second = Harness(redis, "agg-b")
        await second.run_until(second.ended)
        assert await second.timeline() == expected(LIVE)
        assert second.skipped("stale_live") == 15 - 8 and second.skipped("duplicate") == 0

    asyncio.run(scenario())


def test_skip_counters_start_at_zero_for_every_reason() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        await publish(redis, message(0), end(1))
        h = Harness(redis)
        await h.run_until(h.ended)
        for reason in SkipReason:
            value = h.metrics.registry.get_sample_value("emostream_frames_skipped_total",
                                                        {"camera": CAM, "reason": reason.value})  # fmt: skip
            assert value == 0, reason

    asyncio.run(scenario())


def test_aggregate_skip_only_releases_the_seq() -> None:
    aggregate = CameraAggregate(CAM)
    changes, tally = Changes(), Tally()
    aggregate.apply(message(0), changes, tally)
    aggregate.apply(skipped_live(1), changes, tally)
    assert aggregate.last_seq == 1 and aggregate.frames == 1 and changes.state["last_seq"] == 1
    assert tally.skipped == {"stale_live": 1} and len(tally.latencies) == 1
    with pytest.raises(RuntimeError):
        aggregate.apply(skipped_live(1), changes, tally)


def live(entry: stream_pb2.Detections) -> stream_pb2.Detections:
    entry.live = True
    return entry


def test_a_hole_in_a_live_camera_holds_it_only_briefly() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        seqs = [s for s in range(20) if s != 10]  # capture dropped 10 (newest frame wins): it never comes
        h = Harness(redis, reorder_wait_s=60.0)
        await publish(redis, *(live(message(s)) for s in seqs[:10]))
        await h.run_until(h.applied(9), limit_s=5.0)
        await publish(redis, *(live(message(s)) for s in seqs[10:]), end(20))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await h.run_until(h.ended, limit_s=5.0)
        assert loop.time() - started < 2.0, "a live gap costs at most a few tens of ms, not reorder_wait_s"
        assert h.skipped("gap") == 1
        assert await h.timeline() == expected(seqs)

    asyncio.run(scenario())
