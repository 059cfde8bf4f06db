"""One camera's aggregation, without I/O: ``Detections`` messages in seq order go through the embedded
:class:`TimelineBuilder`; what they change (per-frame records, track summaries, finished tracks, events,
counters) is collected into a :class:`~emostream.aggregator.store.Changes` batch, and what the metrics should
count into a :class:`Tally`, both applied by the caller once the batch is committed.

Replaying the same messages into a fresh :class:`CameraAggregate` rebuilds the same tracker and smoother state
(used when a consumer takes a camera over, or restarts): pass ``changes=None`` to apply silently.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from emostream.aggregator.metrics import SkipReason
from emostream.aggregator.records import EventType, FrameRecord, TimelineEvent, TrackTimeline
from emostream.aggregator.store import Changes, StateValue
from emostream.aggregator.timeline import TimelineBuilder, TimelineConfig
from emostream.aggregator.wire import (
    SCHEMA_VERSION,
    STREAM_ENDED,
    detections_from_proto,
    event_to_proto,
    record_to_proto,
    track_to_proto,
)
from emostream.core.labels import EMOTIONS
from emostream.protos.v1 import stream_pb2, timeline_pb2


@dataclass
class Tally:
    """What to count once a batch is committed (metrics must not count what was never persisted)."""

    emotions: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    active_tracks: int | None = None


class CameraAggregate:
    """The tracker/smoother state of one camera and its persisted counters.

    Args:
        camera: the camera name.
        config: tracker and smoother tuning (the same as embedded replay's, for the same result).
        track_offset: added to every track id (after a takeover that could not rebuild the state, so that new
            tracks never reuse a stored id).
        clock: wall clock (epoch seconds), for events and the pipeline latency.
    """

    def __init__(
        self,
        camera: str,
        config: TimelineConfig | None = None,
        track_offset: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.camera, self.track_offset, self.clock = camera, track_offset, clock
        self._events: list[TimelineEvent] = []
        self.builder = TimelineBuilder(config, EMOTIONS, on_event=self._events.append)
        self.last_seq: int | None = None
        self.frames = 0
        self.first_seq: int | None = None
        self.first_pts = self.last_pts = self.last_wall_time = 0.0
        self.width = self.height = 0
        self.model_version = ""
        self.ended = False
        self.rebuild_from: int | None = None  # the first seq this builder applied (a rebuild replays from it)
        self._summaries: dict[int, timeline_pb2.TrackSummary] = {}  # active tracks, by public id

    @property
    def active_tracks(self) -> int:
        return len(self._summaries)

    def state(self) -> dict[str, StateValue]:
        """The counters persisted in the camera's state hash."""
        return {
            "camera": self.camera,
            "last_seq": -1 if self.last_seq is None else self.last_seq,
            "frames": self.frames,
            "first_seq": -1 if self.first_seq is None else self.first_seq,
            "first_pts": self.first_pts,
            "last_pts": self.last_pts,
            "last_wall_time": self.last_wall_time,
            "width": self.width,
            "height": self.height,
            "model_version": self.model_version,
            "active_tracks": self.active_tracks,
            "ended": int(self.ended),
            "track_offset": self.track_offset,
            "rebuild_from": -1 if self.rebuild_from is None else self.rebuild_from,
            "classes": json.dumps(list(self.builder.classes)),
        }

    def apply(self, message: stream_pb2.Detections, changes: Changes | None, tally: Tally | None = None) -> None:
        """Fold in the next frame (seqs strictly increasing; the caller reorders and drops duplicates)."""
        if self.ended:
            raise RuntimeError(f"camera {self.camera}: frame after the end of the stream")
        if message.end_of_stream:
            self._end(message, changes, tally)
            return
        if message.skipped:
            self.skip(message, changes, tally)
            return
        frame = detections_from_proto(message)
        result = self.builder.update(frame)
        if result.duplicate:
            raise RuntimeError(f"camera {self.camera}: seq {message.seq} is not after {self.last_seq}")
        self.last_seq = message.seq
        self.rebuild_from = message.seq if self.rebuild_from is None else self.rebuild_from
        self.frames += 1
        if self.first_seq is None:
            self.first_seq, self.first_pts = message.seq, message.pts
        self.last_pts, self.last_wall_time = message.pts, message.wall_time
        self.width, self.height, self.model_version = message.width, message.height, message.model_version
        now = self.clock()
        started = {e.track_id for e in self._events if e.type is EventType.TRACK_STARTED}
        records = [(tid, rec) for tid, rec in result.faces if tid not in started]
        for tid in sorted(started):
            backlog = self.builder.track_records(tid)
            records.extend((tid, rec) for rec in backlog or [r for t, r in result.faces if t == tid])
        for tid, rec in records:
            self._record(tid, rec, changes, tally)
        self._flush(changes, tally, now)
        if tally is not None:
            tally.latencies.append(max(0.0, now - message.wall_time))

    def skip(self, message: stream_pb2.Detections, changes: Changes | None, tally: Tally | None = None) -> None:
        """A live frame the detector skipped (``Detections.skipped``): its seq is released, the tracker is not
        told. It was not observed, so no track ages or misses on it; the next real frame's Kalman prediction
        spans the whole time step. Like a frame capture dropped, it leaves no record in the timeline."""
        if self.ended:
            raise RuntimeError(f"camera {self.camera}: frame after the end of the stream")
        if self.last_seq is not None and message.seq <= self.last_seq:
            raise RuntimeError(f"camera {self.camera}: seq {message.seq} is not after {self.last_seq}")
        self.last_seq = message.seq
        if changes is not None:
            changes.state.update(self.state())
        if tally is not None:
            tally.skipped[SkipReason.STALE_LIVE] += 1

    def _end(self, message: stream_pb2.Detections, changes: Changes | None, tally: Tally | None) -> None:
        self.builder.finish()
        self.ended = True
        if self.last_seq is None or message.seq > self.last_seq:
            self.last_seq = message.seq
        now = self.clock()
        self._flush(changes, tally, now)
        if changes is not None:
            ended = stream_pb2.Event(
                schema_version=SCHEMA_VERSION, camera=self.camera, type=stream_pb2.EVENT_TYPE_STREAM_ENDED,
                seq=message.seq, pts=self.last_pts, wall_time=now,
            )  # fmt: skip
            changes.events.append(ended.SerializeToString())
            changes.state.update(self.state())
        if tally is not None:
            tally.events[STREAM_ENDED] += 1

    def _record(self, tid: int, rec: FrameRecord, changes: Changes | None, tally: Tally | None) -> None:
        public = tid + self.track_offset
        summary = self._summaries.get(public)
        if summary is None:
            summary = self._summaries[public] = timeline_pb2.TrackSummary(
                camera=self.camera, track_id=public, first_seq=rec.seq, first_pts=rec.pts, active=True
            )
        summary.last_seq, summary.last_pts, summary.label = rec.seq, rec.pts, rec.label
        summary.frame_count += 1
        if changes is not None:
            changes.frames.setdefault(public, []).append(record_to_proto(rec).SerializeToString())
            changes.tracks[public] = timeline_pb2.TrackTimeline(track=summary).SerializeToString()
        if tally is not None:
            tally.emotions[rec.label] += 1

    def _flush(self, changes: Changes | None, tally: Tally | None, now: float) -> None:
        """Publish the events of the last update and store the tracks it finished."""
        events, self._events[:] = list(self._events), []
        self.builder.drain_events()  # the builder keeps every event for finish(); ours are persisted instead
        for event in events:
            if self.track_offset:
                event = TimelineEvent(event.type, event.track_id + self.track_offset, event.seq, event.pts,
                                      event.label, event.previous, event.confidence)  # fmt: skip
            if changes is not None:
                changes.events.append(event_to_proto(event, self.camera, now).SerializeToString())
            if tally is not None:
                tally.events[event.type.value] += 1
        for track in self.builder.drain_finished():
            self._finish_track(track, changes, tally)
        if changes is not None:
            changes.state.update(self.state())
        if tally is not None:
            tally.active_tracks = self.active_tracks

    def _finish_track(self, track: TrackTimeline, changes: Changes | None, tally: Tally | None) -> None:
        public = track.track_id + self.track_offset
        self._summaries.pop(public, None)
        if changes is not None:
            shifted = TrackTimeline(public, track.first_seq, track.first_pts, track.last_seq, track.last_pts,
                                    track.frames, track.segments, track.frame_count)  # fmt: skip
            changes.tracks[public] = track_to_proto(self.camera, shifted, active=False).SerializeToString()
        if tally is not None:
            tally.durations.append(track.duration)
