"""``emostream replay VIDEO``: every frame of a recording, timelines and an annotated video out.

In-process by default; with ``--remote`` through a running stack (``make up``), same outputs.
"""

from __future__ import annotations

import argparse
import importlib
import threading
from pathlib import Path

from tqdm import tqdm

from emostream.capture.video_file import VideoFileReader
from emostream.commands.common import add_pipeline_arguments, fail, settings_from
from emostream.commands.replay_remote import add_remote_arguments
from emostream.components import build_stage
from emostream.core.errors import EmostreamError
from emostream.core.types import Frame
from emostream.outputs.timeline_json import SourceInfo
from emostream.pipeline import EmbeddedPipeline, OutputPaths, RunStats, write_outputs


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replay", help="analyze a video file, every frame", description=__doc__)
    parser.add_argument("video", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out/)")
    parser.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_pipeline_arguments(parser)
    add_remote_arguments(parser)
    parser.set_defaults(handler=run)


def run_remote(args: argparse.Namespace) -> int:
    from emostream.commands.replay_remote import replay_remote

    try:
        result = replay_remote(args)
    except EmostreamError as error:
        return fail(str(error))
    video = None if args.no_video else args.video
    write_outputs(result.timeline, OutputPaths(args.out), result.source, result.model, video, title=args.video.name)
    timeline = result.timeline
    print(f"{timeline.frame_count} frames, {len(timeline.tracks)} tracks via camera {result.camera} -> {args.out}/")
    return 0


def preload_plotting() -> threading.Thread:
    """Import the plot module (and matplotlib) in a background thread; ``write_outputs`` then finds it loaded."""
    thread = threading.Thread(target=importlib.import_module, args=("emostream.outputs.plot",), daemon=True)
    thread.start()
    return thread


def run(args: argparse.Namespace) -> int:
    if args.remote:
        return run_remote(args)
    try:
        reader = VideoFileReader(args.video, camera=args.video.stem)
        stage = build_stage(settings_from(args))
    except EmostreamError as error:
        return fail(str(error))
    pipeline = EmbeddedPipeline(stage, offline=True)
    info = reader.info
    preload_plotting()  # matplotlib (~0.3 s) imports while the pipeline runs, not after it
    with reader, tqdm(total=info.frame_count or None, unit="frame", disable=args.quiet, desc=args.video.name) as bar:

        def progress(frame: Frame, stats: RunStats) -> None:
            bar.update(1)
            if stats.frames % 10 == 0:
                bar.set_postfix(fps=f"{stats.fps:.1f}", faces=stats.faces)

        try:
            timeline = pipeline.run(reader, on_frame=progress)
        except EmostreamError as error:
            return fail(str(error))
    source = SourceInfo(str(args.video), info.fps, reader.stats.frames_read, info.width, info.height)
    write_outputs(
        timeline,
        OutputPaths(args.out),
        source,
        stage.classifier.info,
        None if args.no_video else args.video,
        title=args.video.name,
    )
    corrupt = reader.stats.frames_corrupt
    summary = (
        f"{pipeline.stats.frames} frames, {len(timeline.tracks)} tracks, {pipeline.stats.fps:.1f} fps "
        f"({pipeline.stats.fps / info.fps:.1f}x real time)"
    )
    if corrupt:
        summary += f", {corrupt} corrupt frames skipped"
    print(f"{summary} -> {args.out}/")
    return 0
