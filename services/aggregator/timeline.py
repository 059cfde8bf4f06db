"""Builds per-track timelines from classified frames: tracking, smoothing, segments and events.

Example:
    >>> builder = TimelineBuilder(on_event=print)        # events stream out as they happen
    >>> # for frame in frames: builder.update(frame)      # FrameDetections in seq order
    >>> timeline = builder.finish()                       # closes the tracks, emits their track_ended
    >>> timeline.tracks
    ()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from emostream.aggregator.records import (
    EventType,
    FrameRecord,
    SegmentBuilder,
    Timeline,
    TimelineEvent,
    TrackTimeline,
)
from emostream.aggregator.smoothing import EmotionSmoother, SmootherConfig
from emostream.aggregator.tracker import FaceTracker, TrackerConfig, TrackerUpdate, TrackState, TrackStatus
from emostream.core.labels import EMOTIONS
from emostream.core.types import ClassifiedFace, FrameDetections

EventCallback = Callable[[TimelineEvent], None]


class TimelineConfig(BaseModel):
    """Tuning of :class:`TimelineBuilder`. Unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    smoother: SmootherConfig = Field(default_factory=SmootherConfig)
    keep_frames: bool = Field(default=True, description="keep every per-frame record (off for long live streams)")
    unknown_on_quality: bool = Field(default=True, description="a face with any quality flag is labelled unknown")


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What one :meth:`TimelineBuilder.update` produced: the confirmed tracks' records at this frame and the
    events emitted (possibly about earlier frames, e.g. a track_started back-dated to its first detection)."""

    seq: int
    pts: float
    faces: tuple[tuple[int, FrameRecord], ...]  # (track_id, record)
    events: tuple[TimelineEvent, ...]
    duplicate: bool = False  # seq already consumed (or older): ignored


class _Live:
    """A track being built. Tentative tracks buffer their records and events until they are confirmed."""

    __slots__ = (
        "first_pts",
        "first_seq",
        "frames",
        "last_pts",
        "last_seq",
        "n",
        "pending",
        "segs",
        "smoother",
        "track_id",
    )

    def __init__(self, smoother: EmotionSmoother, seq: int, pts: float) -> None:
        self.smoother = smoother
        self.track_id: int | None = None
        self.segs = SegmentBuilder()
        self.frames: list[FrameRecord] = []
        self.pending: list[TimelineEvent] = []
        self.first_seq, self.first_pts, self.last_seq, self.last_pts, self.n = seq, pts, seq, pts, 0

    def to_timeline(self) -> TrackTimeline:
        assert self.track_id is not None
        return TrackTimeline(
            self.track_id,
            self.first_seq,
            self.first_pts,
            self.last_seq,
            self.last_pts,
            self.frames,
            self.segs.segments,
            self.n,
        )


class TimelineBuilder:
    """Consumes :class:`FrameDetections` in seq order and builds the :class:`Timeline`.

    Args:
        config: tracker, smoother and bookkeeping settings.
        classes: the model's class names, in its output order.
        on_event: called with every event as soon as it is known (live streaming); events are also returned.
    """

    def __init__(
        self,
        config: TimelineConfig | None = None,
        classes: Sequence[str] = EMOTIONS,
        on_event: EventCallback | None = None,
    ) -> None:
        self.config = config or TimelineConfig()
        self.classes = tuple(classes)
        self._on_event = on_event
        self._tracker = FaceTracker(self.config.tracker)
        self._live: dict[int, _Live] = {}
        self._finished: list[TrackTimeline] = []
        self._events: list[TimelineEvent] = []
        self._last_seq: int | None = None
        self._frames = 0
        self._first_pts: float | None = None
        self._last_pts: float | None = None
        self._meta: tuple[int, int, str] | None = None
        self._closed = False
        self.duplicates = 0

    @property
    def active_tracks(self) -> int:
        """Confirmed tracks currently seen."""
        return self._tracker.active_count

    def update(self, frame: FrameDetections, detected: bool = True) -> FrameResult:
        """Fold in one frame. ``detected=False`` means the detector skipped it: tracks are only predicted."""
        if self._closed:
            raise RuntimeError("TimelineBuilder.update after finish()")
        meta = frame.meta
        if self._last_seq is not None and meta.seq <= self._last_seq:
            self.duplicates += 1
            return FrameResult(meta.seq, meta.pts, (), (), duplicate=True)
        self._last_seq = meta.seq
        self._frames += 1
        self._first_pts = meta.pts if self._first_pts is None else self._first_pts
        self._last_pts = meta.pts
        self._meta = self._meta or (meta.width, meta.height, meta.camera)
        faces = frame.faces
        if detected:
            tu = self._tracker.update([f.face.detection for f in faces], meta.pts)
        else:
            tu = self._tracker.predict(meta.pts)
        events: list[TimelineEvent] = []
        out = [rec for st in tu.tracks if (rec := self._on_track(st, faces, meta.seq, meta.pts, detected, events))]
        self._on_removed(tu, events)
        self._emit(events)
        return FrameResult(meta.seq, meta.pts, tuple(out), tuple(events))

    def finish(self) -> Timeline:
        """Close every track (emitting its track_ended) and return the timeline. The builder is then closed."""
        if not self._closed:
            events: list[TimelineEvent] = []
            for uid in sorted(self._live):
                self._end(self._live.pop(uid), events)
            self._emit(events)
            self._closed = True
        width, height, camera = self._meta or (None, None, None)
        return Timeline(
            self.classes,
            tuple(sorted(self._finished, key=lambda t: t.track_id)),
            tuple(self._events),
            self._frames,
            self._first_pts,
            self._last_pts,
            width,
            height,
            camera,
        )

    def track_records(self, track_id: int) -> list[FrameRecord]:
        """The records an open track has gathered so far, those from before its confirmation included."""
        for live in self._live.values():
            if live.track_id == track_id:
                return list(live.frames)
        return []

    def drain_events(self) -> list[TimelineEvent]:
        """Hand over (and forget) the events so far, for services that persist them (``finish`` then has none)."""
        events, self._events = self._events, []
        return events

    def drain_finished(self) -> list[TrackTimeline]:
        """Hand over (and forget) the tracks finished so far, for long live streams that persist them."""
        done, self._finished = self._finished, []
        return done

    # --- internals -------------------------------------------------------------------------------------------

    def _on_track(
        self,
        st: TrackState,
        faces: Sequence[ClassifiedFace],
        seq: int,
        pts: float,
        detected: bool,
        events: list[TimelineEvent],
    ) -> tuple[int, FrameRecord] | None:
        live = self._live.get(st.uid)
        if live is None:
            live = self._live[st.uid] = _Live(EmotionSmoother(self.config.smoother, self.classes), seq, pts)
        rec = None
        if st.detection_index is not None:
            rec = self._observed(live, faces[st.detection_index], seq, pts, events)
        elif not detected and st.status is not TrackStatus.LOST:
            sm = live.smoother.current()
            rec = FrameRecord(
                seq,
                pts,
                st.box,
                0.0,
                None,
                frozenset(),
                None,
                sm.probabilities,
                sm.label,
                sm.confidence,
                observed=False,
            )
        if rec is not None:
            live.n += 1
            live.last_seq, live.last_pts = seq, pts
            live.segs.add(seq, pts, rec.label, rec.confidence)
            if self.config.keep_frames:
                live.frames.append(rec)
        if st.track_id is not None and live.track_id is None:  # confirmed at this update
            live.track_id = st.track_id
            events.append(TimelineEvent(EventType.TRACK_STARTED, live.track_id, live.first_seq, live.first_pts))
            events.extend(dataclasses.replace(e, track_id=live.track_id) for e in live.pending)
            live.pending.clear()
        return None if rec is None or live.track_id is None else (live.track_id, rec)

    def _observed(
        self, live: _Live, cf: ClassifiedFace, seq: int, pts: float, events: list[TimelineEvent]
    ) -> FrameRecord:
        face, det = cf.face, cf.face.detection
        usable = cf.probabilities is not None and (face.usable or not self.config.unknown_on_quality)
        previous = live.smoother.label
        sm = live.smoother.update(cf.probabilities if usable else None, pts)
        if sm.changed:
            ev = TimelineEvent(
                EventType.EMOTION_CHANGED, live.track_id or 0, seq, pts, sm.label, previous, sm.confidence
            )
            (live.pending if live.track_id is None else events).append(ev)
        return FrameRecord(
            seq,
            pts,
            det.box,
            det.score,
            det.keypoints,
            face.quality,
            cf.probabilities,
            sm.probabilities,
            sm.label,
            sm.confidence,
        )

    def _on_removed(self, tu: TrackerUpdate, events: list[TimelineEvent]) -> None:
        for st in tu.removed:
            live = self._live.pop(st.uid, None)
            if live is not None and live.track_id is not None:
                self._end(live, events)

    def _end(self, live: _Live, events: list[TimelineEvent]) -> None:
        if live.track_id is None:
            return
        live.segs.close()
        events.append(TimelineEvent(EventType.TRACK_ENDED, live.track_id, live.last_seq, live.last_pts))
        self._finished.append(live.to_timeline())

    def _emit(self, events: list[TimelineEvent]) -> None:
        self._events.extend(events)
        if self._on_event is not None:
            for ev in events:
                self._on_event(ev)
