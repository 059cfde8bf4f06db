"""Embedded mode: capture -> detect/align/classify -> aggregate, joined in one process.

Decoding runs in its own thread (OpenCV releases the GIL) and feeds a small bounded queue, so the
decoder and the detector overlap on two cores. No Redis, no gRPC: the same stage objects the
services use, called directly.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from emostream.aggregator import Timeline, TimelineBuilder, TimelineConfig
from emostream.aggregator.records import TimelineEvent
from emostream.core.types import Frame
from emostream.detector.stage import DetectorStage
from emostream.outputs.annotated_video import AnnotatedVideoWriter, annotate_video
from emostream.outputs.plot import plot_timeline
from emostream.outputs.timeline_csv import write_timeline_csv
from emostream.outputs.timeline_json import ModelInfo, SourceInfo, write_timeline_json

log = logging.getLogger(__name__)
_END = object()


@dataclass
class RunStats:
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0
    events: list[TimelineEvent] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def prefetch(frames: Iterable[Frame], depth: int = 8) -> Iterator[Frame]:
    """Iterate ``frames`` in a background thread, ``depth`` frames ahead; errors are re-raised here."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        buffer.put(frame, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_END)
        except BaseException as error:  # handed to the consumer, which re-raises it
            buffer.put(error)

    thread = threading.Thread(target=produce, name="decode", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)
            yield item
    finally:
        stop.set()


class EmbeddedPipeline:
    """The four stages in one process. ``run(frames)`` returns the finished timeline."""

    def __init__(
        self,
        stage: DetectorStage,
        timeline_config: TimelineConfig | None = None,
        on_event: Callable[[TimelineEvent], None] | None = None,
    ) -> None:
        self.stage = stage
        self.builder = TimelineBuilder(timeline_config, classes=stage.classifier.info.classes, on_event=on_event)
        self.stats = RunStats()

    def run(
        self,
        frames: Iterable[Frame],
        on_frame: Callable[[Frame, RunStats], None] | None = None,
        sink_factory: Callable[[Frame], AnnotatedVideoWriter] | None = None,
    ) -> Timeline:
        """Process every frame ``frames`` yields; ``sink_factory`` (given the first frame) annotates live."""
        started = time.perf_counter()
        sink: AnnotatedVideoWriter | None = None
        try:
            for frame in prefetch(frames):
                if sink is None and sink_factory is not None:
                    sink = sink_factory(frame).open()
                self._process(frame, started, on_frame, sink)
        finally:
            if sink is not None:
                sink.close()
        return self.builder.finish()

    def _process(
        self,
        frame: Frame,
        started: float,
        on_frame: Callable[[Frame, RunStats], None] | None,
        sink: AnnotatedVideoWriter | None,
    ) -> None:
        detections = self.stage.process(frame)
        result = self.builder.update(detections)
        self.stats.frames += 1
        self.stats.faces += len(detections.faces)
        self.stats.events.extend(result.events)
        self.stats.seconds = time.perf_counter() - started
        if sink is not None:
            sink.write(frame.image, result.faces)
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
    """timeline.json, timeline.csv, timeline.png and (from a file source) annotated.mp4."""
    out.folder.mkdir(parents=True, exist_ok=True)
    write_timeline_json(out.json, timeline, source, model)
    write_timeline_csv(out.csv, timeline)
    plot_timeline(timeline, out.plot, title=title)
    if video_source is not None:
        annotate_video(video_source, timeline, out.video, fps=source.fps)
