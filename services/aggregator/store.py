"""The aggregator's state in Redis, per camera (every key hash-tagged by camera, see ``transport.keys``):

- ``timeline_key(cam, "state")``: hash of counters (``last_seq`` applied, ``frames``, pts range, ``ended`` ...);
- ``timeline_key(cam, "tracks")``: hash ``track_id -> TrackTimeline`` (summary and, once ended, segments);
- ``timeline_key(cam, "frames:<track_id>")``: list of ``TrackFrame``, one per frame of the track;
- ``timeline_key(cam, "skipped")``: set of seqs given up on (so that a rebuild skips them too);
- ``events_stream(cam)``: ``Event`` entries, capped (``MAXLEN ~``).

A :class:`Changes` batch is committed in one MULTI/EXEC that also acknowledges the detections entries it
came from (XACK after the state is written, atomically), guarded by the camera's lease (WATCH): a consumer
that lost its lease cannot write. Every key written gets the retention TTL again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import WatchError

from emostream.aggregator.lease import lease_key
from emostream.protos.v1 import timeline_pb2
from emostream.transport.keys import (
    AGGREGATOR_GROUP,
    CAMERAS_KEY,
    PAYLOAD_FIELD,
    detections_stream,
    events_stream,
    timeline_key,
)

StateValue = str | int | float


def state_key(camera: str) -> str:
    return timeline_key(camera, "state")


def tracks_key(camera: str) -> str:
    return timeline_key(camera, "tracks")


def frames_key(camera: str, track_id: int) -> str:
    return timeline_key(camera, f"frames:{track_id}")


def skipped_key(camera: str) -> str:
    return timeline_key(camera, "skipped")


@dataclass
class Changes:
    """What applying a batch of detections entries changed, written in one transaction."""

    state: dict[str, StateValue] = field(default_factory=dict)
    frames: dict[int, list[bytes]] = field(default_factory=dict)  # track id -> TrackFrame, appended
    tracks: dict[int, bytes] = field(default_factory=dict)  # track id -> TrackTimeline, replaced
    events: list[bytes] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)  # detections entry ids

    def __bool__(self) -> bool:
        return bool(self.state or self.frames or self.tracks or self.events or self.skipped or self.acks)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class TimelineStore:
    """Reads and writes the persisted timelines (one instance per process, shared by every camera)."""

    def __init__(self, redis: Redis, retention_s: float | None, events_maxlen: int) -> None:
        self.redis, self.retention_s, self.events_maxlen = redis, retention_s, events_maxlen

    # --- writing ------------------------------------------------------------------------------------------------

    async def commit(self, camera: str, changes: Changes, owner: str) -> bool:
        """Write ``changes`` and acknowledge their entries, if ``owner`` still holds the camera's lease."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(5):
                try:
                    await pipe.watch(lease_key(camera))
                    holder = await pipe.get(lease_key(camera))
                    if holder is None or _text(holder) != owner:
                        await pipe.reset()
                        return False
                    pipe.multi()
                    self._queue(pipe, camera, changes)
                    await pipe.execute()
                    return True
                except WatchError:  # the lease key was touched (renewed, maybe by us): check again
                    continue
        return False

    def _queue(self, pipe: Redis, camera: str, changes: Changes) -> None:
        written = [state_key(camera)]
        if changes.state:
            pipe.hset(state_key(camera), mapping=dict(changes.state))  # type: ignore[arg-type]
        for track_id, frames in changes.frames.items():
            pipe.rpush(frames_key(camera, track_id), *frames)
            written.append(frames_key(camera, track_id))
        if changes.tracks:
            pipe.hset(tracks_key(camera), mapping={str(k): v for k, v in changes.tracks.items()})
            written.append(tracks_key(camera))
        for event in changes.events:
            pipe.xadd(events_stream(camera), {PAYLOAD_FIELD: event}, maxlen=self.events_maxlen, approximate=True)
        if changes.events:
            written.append(events_stream(camera))
        if changes.skipped:
            pipe.sadd(skipped_key(camera), *changes.skipped)
            written.append(skipped_key(camera))
        if changes.acks:
            pipe.xack(detections_stream(camera), AGGREGATOR_GROUP, *changes.acks)
        if self.retention_s is not None:
            for key in written:
                pipe.pexpire(key, int(self.retention_s * 1000))

    async def register(self, camera: str) -> None:
        await self.redis.sadd(CAMERAS_KEY, camera)

    # --- reading ------------------------------------------------------------------------------------------------

    async def state(self, camera: str) -> dict[str, str] | None:
        """The camera's counters (None: the aggregator has never seen it, or its retention passed)."""
        raw = await self.redis.hgetall(state_key(camera))
        return {_text(k): _text(v) for k, v in raw.items()} or None

    async def cameras(self) -> list[str]:
        """Every camera the aggregator has state for, sorted."""
        names = sorted(_text(n) for n in await self.redis.smembers(CAMERAS_KEY))
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.exists(state_key(name))
            present = await pipe.execute()
        return [name for name, exists in zip(names, present, strict=True) if exists]

    async def skipped(self, camera: str) -> set[int]:
        return {int(_text(v)) for v in await self.redis.smembers(skipped_key(camera))}

    async def tracks(self, camera: str) -> list[timeline_pb2.TrackTimeline]:
        """The camera's tracks (summaries and finished tracks' segments), by track id."""
        raw = await self.redis.hgetall(tracks_key(camera))
        tracks = [timeline_pb2.TrackTimeline.FromString(v) for v in raw.values()]
        return sorted(tracks, key=lambda t: t.track.track_id)

    async def track(self, camera: str, track_id: int) -> timeline_pb2.TrackTimeline | None:
        raw = await self.redis.hget(tracks_key(camera), str(track_id))
        return None if raw is None else timeline_pb2.TrackTimeline.FromString(raw)

    async def frames(self, camera: str, track_ids: Sequence[int]) -> dict[int, list[timeline_pb2.TrackFrame]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for track_id in track_ids:
                pipe.lrange(frames_key(camera, track_id), 0, -1)
            lists = await pipe.execute()
        return {
            track_id: [timeline_pb2.TrackFrame.FromString(v) for v in values]
            for track_id, values in zip(track_ids, lists, strict=True)
        }


def classes_of(state: dict[str, str]) -> list[str]:
    return list(json.loads(state.get("classes", "[]")))
