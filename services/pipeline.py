"""Embedded mode: capture -> detect/align/classify -> aggregate, joined in one process.

Decoding runs in its own thread (OpenCV releases the GIL) and feeds a small bounded queue, so the
decoder and the detector overlap on two cores. No Redis, no gRPC: the same stage objects the
services use, called directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from emostream.aggregator import Timeline, TimelineBuilder, TimelineConfig
from emostream.aggregator.records import TimelineEvent
from emostream.core.prefetch import Prefetch, prefetch
from emostream.core.types import Frame, FrameDetections, ModelInfo
from emostream.detector.stage import DetectorStage
from emostream.outputs.annotated_video import FaceOverlay, annotate_video
from emostream.outputs.timeline_csv import write_timeline_csv
from emostream.outputs.timeline_json import SourceInfo, write_timeline_json

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0
    events: list[TimelineEvent] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class FrameSink(Protocol):
    """Where :meth:`EmbeddedPipeline.run` sends each tracked frame with its faces, e.g.
    :class:`~emostream.outputs.live_video.LiveAnnotatedVideo`; closed when the run ends."""

    def write(self, frame: Frame, faces: Sequence[FaceOverlay]) -> None: ...

    def close(self) -> None: ...


class EmbeddedPipeline:
    """The four stages in one process. ``run(frames)`` returns the finished timeline.

    Three threads overlap on the cores: decoding, detection + alignment, and classification +
    tracking. The classifier takes the faces of ``batch_frames`` frames in one call when
    ``offline`` (a file: throughput counts, not latency), else of every frame detected so far, so
    a live source, whose frames come one at a time, gets no added latency. Frames are tracked in order.
    """

    def __init__(
        self,
        stage: DetectorStage,
        timeline_config: TimelineConfig | None = None,
        on_event: Callable[[TimelineEvent], None] | None = None,
        batch_frames: int = 8,
        offline: bool = False,
    ) -> None:
        self.stage = stage
        self.builder = TimelineBuilder(timeline_config, classes=stage.classifier.info.classes, on_event=on_event)
        self.batch_frames = batch_frames
        self.offline = offline
        self.stats = RunStats()

    def run(
        self,
        frames: Iterable[Frame],
        on_frame: Callable[[Frame, RunStats], None] | None = None,
        sink_factory: Callable[[Frame], FrameSink] | None = None,
    ) -> Timeline:
        """Process every frame ``frames`` yields; ``sink_factory`` (given the first frame) annotates live."""
        started = time.perf_counter()
        sink: FrameSink | None = None
        detect = self.stage.detect
        detected = Prefetch(((frame, detect(frame)) for frame in prefetch(frames)), depth=2 * self.batch_frames,
                            name="detect")  # fmt: skip
        try:
            for group in detected.batches(self.batch_frames, wait=self.offline):
                classified = self.stage.classify_frames([faces for _, faces in group])
                for (frame, _), faces in zip(group, classified, strict=True):
                    if sink is None and sink_factory is not None:
                        sink = sink_factory(frame)
                    self._track(FrameDetections(frame.meta, faces), frame, started, on_frame, sink)
        finally:
            if sink is not None:
                sink.close()
        return self.builder.finish()

    def _track(
        self,
        detections: FrameDetections,
        frame: Frame,
        started: float,
        on_frame: Callable[[Frame, RunStats], None] | None,
        sink: FrameSink | None,
    ) -> None:
        result = self.builder.update(detections)
        self.stats.frames += 1
        self.stats.faces += len(detections.faces)
        self.stats.events.extend(result.events)
        self.stats.seconds = time.perf_counter() - started
        if sink is not None:
            sink.write(frame, result.faces)
        if on_frame is not None:
            on_frame(frame, self.stats)


@dataclass(frozen=True)
class OutputPaths:
    folder: Path

    @property
    def json(self) -> Path:
        return self.folder / "timeline.json"

    @property
    def csv(self) -> Path:
        return self.folder / "timeline.csv"

    @property
    def video(self) -> Path:
        return self.folder / "annotated.mp4"

    @property
    def plot(self) -> Path:
        return self.folder / "timeline.png"


def write_outputs(
    timeline: Timeline,
    out: OutputPaths,
    source: SourceInfo,
    model: ModelInfo,
    video_source: Path | None,
    title: str | None = None,
) -> None:
    """timeline.json, timeline.csv, timeline.png and (from a file source) annotated.mp4.

    The annotated video (decode, draw, encode: mostly outside the GIL) is written in a thread while
    the files and the plot are written here.
    """
    from emostream.outputs.plot import plot_timeline  # matplotlib loads only when a plot is made

    out.folder.mkdir(parents=True, exist_ok=True)
    errors: list[BaseException] = []

    def annotate() -> None:
        try:
            annotate_video(video_source, timeline, out.video, fps=source.fps)
        except BaseException as error:
            errors.append(error)

    video = threading.Thread(target=annotate, name="annotate", daemon=True) if video_source is not None else None
    if video is not None:
        video.start()
    write_timeline_json(out.json, timeline, source, model)
    write_timeline_csv(out.csv, timeline)
    plot_timeline(timeline, out.plot, title=title)
    if video is not None:
        video.join()
    if errors:
        raise errors[0]
