"""``emostream run SOURCE``: a webcam index, an RTSP/HTTP URL or a file, live (newest frame wins).

Ctrl-C (or ``--duration``) stops cleanly and writes the same outputs as ``replay``.
"""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from tqdm import tqdm

from emostream.capture.live import LiveConfig, LiveSource, parse_source
from emostream.commands.common import add_pipeline_arguments, fail, settings_from
from emostream.components import build_stage
from emostream.core.errors import EmostreamError
from emostream.core.types import Frame
from emostream.outputs.live_video import LiveAnnotatedVideo
from emostream.outputs.timeline_json import SourceInfo
from emostream.pipeline import EmbeddedPipeline, OutputPaths, RunStats, write_outputs

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="analyze a live source", description=__doc__)
    parser.add_argument("source", help="webcam index (0), rtsp://..., http://... or a video file")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out/)")
    parser.add_argument("--camera", default="cam0", help="camera name in outputs")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--show", action="store_true", help="show the annotated frames in a window")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_pipeline_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = parse_source(args.source)
    if isinstance(spec, str) and "://" not in spec and not Path(spec).is_file():
        return fail(f"{spec}: no such file, and not a camera index or URL")
    if args.show and not _display_available():
        return fail("--show needs a display and an OpenCV build with GUI support (this one is headless)")
    try:
        stage = build_stage(settings_from(args))
    except EmostreamError as error:
        return fail(str(error))
    source = LiveSource(spec, camera=args.camera, config=LiveConfig()).start()
    if args.duration:
        threading.Timer(args.duration, source.stop).start()
    pipeline = EmbeddedPipeline(stage)
    args.out.mkdir(parents=True, exist_ok=True)
    size: tuple[int, int] = (0, 0)
    bar = tqdm(unit="frame", disable=args.quiet, desc=source.name)

    def on_frame(frame: Frame, stats: RunStats) -> None:
        nonlocal size
        size = (frame.meta.width, frame.meta.height)
        bar.update(1)
        bar.set_postfix(fps=f"{stats.fps:.1f}", dropped=sum(source.stats.drops.values()), refresh=False)
        if args.show:
            import cv2

            cv2.imshow("emostream", frame.image)
            if cv2.waitKey(1) & 0xFF == ord("q"):
                source.stop()

    def make_sink(_first: Frame) -> LiveAnnotatedVideo:  # at the rate the frames come (their capture times)
        video = OutputPaths(args.out).video
        return LiveAnnotatedVideo(video, stage.classifier.info.classes, fallback_fps=source.config.assumed_fps)

    try:
        timeline = pipeline.run(source, on_frame=on_frame, sink_factory=make_sink)
    except KeyboardInterrupt:
        source.stop()
        timeline = pipeline.builder.finish()
    finally:
        source.stop()
        bar.close()
    if pipeline.stats.frames == 0:
        return fail(f"{source.name}: no frame could be read")
    fps = pipeline.stats.fps
    info = SourceInfo(source.name, round(fps, 3), pipeline.stats.frames, size[0], size[1])
    write_outputs(timeline, OutputPaths(args.out), info, stage.classifier.info, None, source.name)
    drops = source.stats.drops
    print(
        f"{pipeline.stats.frames} frames, {len(timeline.tracks)} tracks, dropped {drops or 0}, "
        f"reconnects {source.stats.reconnects} -> {args.out}/"
    )
    return 0


def _display_available() -> bool:
    import os

    import cv2

    build = cv2.getBuildInformation()
    return bool(os.environ.get("DISPLAY")) and ("GTK" in build or "QT" in build)
