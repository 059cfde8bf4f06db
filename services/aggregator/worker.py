"""One camera's consumer: reads its detections stream in the ``aggregator`` group, reorders by seq, drops
duplicates, aggregates and commits, while it holds the camera's lease.

On start it takes over whatever a previous owner left pending (XAUTOCLAIM), rebuilds the tracker state by
replaying the entries already applied (``last_seq`` and the skipped seqs are persisted), then reads its own
pending entries and the new ones. Entries held in the reorder buffer stay pending until they are applied, so
a crash loses nothing; an entry at or below ``last_seq`` is acknowledged without being applied again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from emostream.aggregator.ingest import CameraAggregate, Tally
from emostream.aggregator.lease import CameraLease
from emostream.aggregator.metrics import AggregatorMetrics, SkipReason
from emostream.aggregator.records import EventType, TimelineEvent
from emostream.aggregator.reorder import Released, ReorderBuffer
from emostream.aggregator.settings import AggregatorSettings
from emostream.aggregator.store import Changes, TimelineStore
from emostream.aggregator.wire import event_to_proto, segments_from_frames
from emostream.core.errors import EmostreamError
from emostream.protos.v1 import stream_pb2, timeline_pb2
from emostream.transport.codec import PayloadError, decode_detections
from emostream.transport.dead_letter import DeadLetter, add_dead_letter
from emostream.transport.keys import AGGREGATOR_GROUP, detections_stream

log = logging.getLogger(__name__)
Held = tuple[str, stream_pb2.Detections]  # (entry id, message)
_REBUILD_PAGE = 1000
# A live camera's missing seq (capture dropped it, newest frame wins; or another detector replica still has it) is
# waited for ``live_reorder_wait_s`` at most: a later frame is worth more than an older one that may still come, and
# a hole must not stall the camera for ``reorder_wait_s``. An older entry arriving after that is skipped as ``late``.


class LeaseLost(EmostreamError):
    """Another consumer owns the camera now: stop touching it."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def ensure_group(redis: Redis, stream: str, group: str) -> None:
    """Create the consumer group (and the stream) if missing, reading from the stream's start."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


class CameraWorker:
    """Aggregates one camera for as long as ``lease`` stays ours (``run`` returns on ``stop``, raises
    :class:`LeaseLost` when the lease goes)."""

    def __init__(
        self,
        redis: Redis,
        store: TimelineStore,
        settings: AggregatorSettings,
        metrics: AggregatorMetrics,
        lease: CameraLease,
    ) -> None:
        self.redis, self.store, self.settings, self.metrics, self.lease = redis, store, settings, metrics, lease
        self.camera = lease.camera
        self.stream = detections_stream(self.camera)
        self.aggregate: CameraAggregate | None = None
        self._renew_at = 0.0

    async def _keep_lease(self) -> None:
        """Renew the lease when due (long rebuilds); :class:`LeaseLost` if it is gone."""
        now = asyncio.get_running_loop().time()
        if now >= self._renew_at:
            if not await self.lease.renew():
                raise LeaseLost(f"camera {self.camera}: lease lost")
            self._renew_at = now + self.settings.lease_renew_s

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        self._renew_at = loop.time() + self.settings.lease_renew_s
        await ensure_group(self.redis, self.stream, AGGREGATOR_GROUP)
        await self.store.register(self.camera)
        self.metrics.add_camera(self.camera)
        await self._claim_pending()
        aggregate, changes = await self.restore()
        self.aggregate = aggregate
        next_seq = None if aggregate.last_seq is None else aggregate.last_seq + 1
        reorder: ReorderBuffer[Held] = ReorderBuffer(self.settings.reorder_window, self.settings.reorder_wait_s,
                                                     next_seq)  # fmt: skip
        await self._commit(changes, Tally())
        cursor = "0"  # our pending entries first, then new ones (">")
        while not stop.is_set():
            await self._keep_lease()
            entries = await self._read(cursor, self._block_ms(reorder, loop.time()))
            if cursor != ">":
                cursor = _text(entries[-1][0]) if entries else ">"
            changes, tally = Changes(), Tally()
            for entry_id, fields in entries:
                await self._accept(_text(entry_id), fields, aggregate, reorder, changes, tally)
            self._release(reorder.pop_ready(loop.time()), aggregate, reorder, changes, tally)
            await self._commit(changes, tally)

    # --- reading ------------------------------------------------------------------------------------------------

    def _block_ms(self, reorder: ReorderBuffer[Held], now: float) -> int:
        """How long a read may wait for new entries: ``block_ms``, or less when a held entry's gap is due."""
        deadline = reorder.deadline()
        if deadline is None:
            return self.settings.block_ms
        return max(1, min(self.settings.block_ms, math.ceil((deadline - now) * 1000)))

    async def _read(self, cursor: str, block_ms: int | None = None) -> list[tuple[Any, dict[Any, Any]]]:
        block = (self.settings.block_ms if block_ms is None else block_ms) if cursor == ">" else None
        try:
            reply = await self.redis.xreadgroup(AGGREGATOR_GROUP, self.lease.owner, {self.stream: cursor},
                                                count=self.settings.read_count, block=block)  # fmt: skip
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await ensure_group(self.redis, self.stream, AGGREGATOR_GROUP)  # the stream was deleted meanwhile
            return []
        if not reply:
            return []
        entries = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        return list(entries)

    async def _claim_pending(self) -> None:
        """Move every entry pending in the group (a previous owner's) to us: we hold the camera's lease."""
        start = "0-0"
        while True:
            reply = await self.redis.xautoclaim(self.stream, AGGREGATOR_GROUP, self.lease.owner, min_idle_time=0,
                                                start_id=start, count=_REBUILD_PAGE)  # fmt: skip
            start = _text(reply[0])
            if reply[1]:
                log.info("event=claimed camera=%s entries=%d", self.camera, len(reply[1]))
            if start == "0-0":
                break
        for consumer in await self.redis.xinfo_consumers(self.stream, AGGREGATOR_GROUP):
            name = _text(consumer["name"])
            if name != self.lease.owner and not consumer.get("pending"):  # gone owners: keep the group tidy
                await self.redis.xgroup_delconsumer(self.stream, AGGREGATOR_GROUP, name)

    async def _accept(
        self,
        entry_id: str,
        fields: dict[Any, Any] | None,
        aggregate: CameraAggregate,
        reorder: ReorderBuffer[Held],
        changes: Changes,
        tally: Tally,
    ) -> None:
        if not fields:  # pending, but trimmed from the stream meanwhile
            changes.acks.append(entry_id)
            tally.skipped[SkipReason.TRIMMED] += 1
            return
        try:
            message = decode_detections(fields)
        except PayloadError as error:
            letter = DeadLetter("aggregator", self.stream, entry_id, error.reason, str(error))
            log.warning("event=dead_letter camera=%s id=%s reason=%s detail=%r", self.camera, entry_id,
                        error.reason.value, str(error))  # fmt: skip
            async with self.redis.pipeline(transaction=False) as pipe:
                add_dead_letter(pipe, letter, fields)
                await pipe.execute()
            changes.acks.append(entry_id)
            tally.skipped[SkipReason.DEAD_LETTER] += 1
            return
        seq = message.seq
        if aggregate.ended:
            reason = SkipReason.AFTER_END
        elif aggregate.last_seq is not None and seq <= aggregate.last_seq:
            reason = SkipReason.DUPLICATE
        elif reorder.push(seq, (entry_id, message), asyncio.get_running_loop().time(), self._gap_wait(message)):
            return
        else:
            reason = SkipReason.DUPLICATE if seq in reorder else SkipReason.LATE
        changes.acks.append(entry_id)
        tally.skipped[reason] += 1
        log.debug("event=skipped camera=%s seq=%d reason=%s", self.camera, seq, reason)

    def _gap_wait(self, message: stream_pb2.Detections) -> float | None:
        """How long a gap before a live entry is waited for (None: the buffer's ``reorder_wait_s``)."""
        return min(self.settings.live_reorder_wait_s, self.settings.reorder_wait_s) if message.live else None

    def _release(
        self,
        released: list[Released[Held]],
        aggregate: CameraAggregate,
        reorder: ReorderBuffer[Held],
        changes: Changes,
        tally: Tally,
    ) -> None:
        for item in released:
            entry_id, message = item.item
            changes.acks.append(entry_id)
            if aggregate.ended:
                tally.skipped[SkipReason.AFTER_END] += 1
                continue
            if item.skipped:
                changes.skipped.extend(item.skipped)
                tally.skipped[SkipReason.GAP] += len(item.skipped)
                log.info("event=gap camera=%s skipped=%d-%d", self.camera, item.skipped.start, item.skipped.stop - 1)
            aggregate.apply(message, changes, tally)
            if aggregate.ended:
                log.info("event=stream_ended camera=%s frames=%d", self.camera, aggregate.frames)
                rest = reorder.flush()
                changes.acks.extend(r.item[0] for r in rest)
                tally.skipped[SkipReason.AFTER_END] += len(rest)

    # --- writing ------------------------------------------------------------------------------------------------

    async def _commit(self, changes: Changes, tally: Tally) -> None:
        if not changes:
            return
        if not await self.store.commit(self.camera, changes, self.lease.owner):
            raise LeaseLost(f"camera {self.camera}: lease lost before a commit")
        self._count(tally)

    def _count(self, tally: Tally) -> None:
        m, cam = self.metrics, self.camera
        for label, count in tally.emotions.items():
            m.emotion_frames.labels(cam, label).inc(count)
        for kind, count in tally.events.items():
            m.events.labels(cam, kind).inc(count)
        for reason, count in tally.skipped.items():
            m.frames_skipped.labels(cam, reason).inc(count)
        for seconds in tally.durations:
            m.track_duration.labels(cam).observe(seconds)
        for seconds in tally.latencies:
            m.pipeline_latency.labels(cam).observe(seconds)
        if tally.active_tracks is not None:
            m.active_tracks.labels(cam).set(tally.active_tracks)

    # --- restoring ----------------------------------------------------------------------------------------------

    async def restore(self) -> tuple[CameraAggregate, Changes]:
        """The camera's aggregate as persisted: rebuilt by replaying the applied entries when the stream still
        holds them all, else a fresh tracker (track ids continuing after the stored ones, open tracks closed)."""
        config = self.settings.timeline
        state = await self.store.state(self.camera)
        if state is None:
            return CameraAggregate(self.camera, config), Changes()
        last_seq, rebuild_from = int(state["last_seq"]), int(state.get("rebuild_from", state["first_seq"]))
        offset = int(state.get("track_offset", "0"))
        if state.get("ended") == "1":
            aggregate = CameraAggregate(self.camera, config, offset)
            _load_counters(aggregate, state)
            aggregate.ended = True
            return aggregate, Changes()
        applied = await self._applied_entries(rebuild_from, last_seq) if rebuild_from >= 0 else {}
        if rebuild_from < 0 or rebuild_from in applied:
            aggregate = CameraAggregate(self.camera, config, offset)
            for count, seq in enumerate(sorted(applied)):
                aggregate.apply(applied[seq], None)
                if count % _REBUILD_PAGE == 0:
                    await self._keep_lease()
            _load_counters(aggregate, state)
            log.info("event=restored camera=%s last_seq=%d replayed=%d", self.camera, last_seq, len(applied))
            return aggregate, Changes()
        return await self._restart(state, last_seq)

    async def _applied_entries(self, first: int, last: int) -> dict[int, stream_pb2.Detections]:
        skipped = await self.store.skipped(self.camera)
        applied: dict[int, stream_pb2.Detections] = {}
        start = "-"
        while True:
            page: list[Any] = await self.redis.xrange(self.stream, min=start, max="+", count=_REBUILD_PAGE) or []
            for _, fields in page:
                try:
                    message = decode_detections(fields)
                except PayloadError:
                    continue
                if first <= message.seq <= last and message.seq not in skipped and not message.end_of_stream:
                    applied.setdefault(message.seq, message)
            if len(page) < _REBUILD_PAGE:
                return applied
            await self._keep_lease()
            start = "(" + _text(page[-1][0])

    async def _restart(self, state: dict[str, str], last_seq: int) -> tuple[CameraAggregate, Changes]:
        """The applied entries are gone from the stream: close the stored open tracks, start a fresh tracker."""
        tracks = await self.store.tracks(self.camera)
        offset = max((t.track.track_id for t in tracks), default=0)
        aggregate = CameraAggregate(self.camera, self.settings.timeline, offset)
        _load_counters(aggregate, state)
        changes = Changes(state=aggregate.state())
        open_tracks = [t for t in tracks if t.track.active]
        frames = await self.store.frames(self.camera, [t.track.track_id for t in open_tracks])
        now = aggregate.clock()
        for track in open_tracks:
            summary = track.track
            closed = timeline_pb2.TrackTimeline(track=summary, segments=segments_from_frames(frames[summary.track_id]))
            closed.track.active = False
            changes.tracks[summary.track_id] = closed.SerializeToString()
            ended = TimelineEvent(EventType.TRACK_ENDED, summary.track_id, summary.last_seq, summary.last_pts)
            changes.events.append(event_to_proto(ended, self.camera, now).SerializeToString())
        log.warning("event=restarted camera=%s reason=applied_entries_trimmed closed_tracks=%d track_offset=%d",
                    self.camera, len(open_tracks), offset)  # fmt: skip
        return aggregate, changes


def _load_counters(aggregate: CameraAggregate, state: dict[str, str]) -> None:
    first_seq = int(state.get("first_seq", "-1"))
    aggregate.first_seq = None if first_seq < 0 else first_seq
    last_seq = int(state.get("last_seq", "-1"))
    aggregate.last_seq = None if last_seq < 0 else last_seq
    aggregate.frames = int(state.get("frames", "0"))
    aggregate.first_pts = float(state.get("first_pts", "0"))
    aggregate.last_pts = float(state.get("last_pts", "0"))
    aggregate.last_wall_time = float(state.get("last_wall_time", "0"))
    aggregate.width, aggregate.height = int(state.get("width", "0")), int(state.get("height", "0"))
    aggregate.model_version = state.get("model_version", "")
