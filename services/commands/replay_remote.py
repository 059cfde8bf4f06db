"""``emostream replay VIDEO --remote``: the same outputs as embedded replay, computed by the running stack.

The file's frames are published to a camera's frames stream (losslessly, with backpressure, then an
end-of-stream entry: ``capture.publisher.publish_video``); the detector and classifier services process them;
the aggregator builds the timeline. Once its stream-ended event arrives (over ``WatchEvents``), the timeline is
fetched with ``GetTimeline(include_frames)`` and written like embedded replay's.

The camera name is new for every run (``<video stem>-<random>``) unless ``--camera`` is given: a camera whose
stream has ended takes no more frames.
"""

from __future__ import annotations

import argparse
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from emostream.aggregator.client import TimelineClient
from emostream.aggregator.records import Timeline
from emostream.aggregator.wire import timeline_from_response
from emostream.capture.video_file import probe
from emostream.core.errors import EmostreamError
from emostream.core.labels import EMOTIONS
from emostream.core.types import Frame, ModelInfo
from emostream.outputs.timeline_json import SourceInfo
from emostream.protos.v1 import stream_pb2

DEFAULT_AGGREGATOR = "127.0.0.1:50053"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def add_remote_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("remote (--remote: through a running stack, e.g. `make up`)")
    add = group.add_argument
    add("--remote", action="store_true", help="send the video through the running stack instead of in-process")
    add("--redis", default=DEFAULT_REDIS, help=f"the stack's Redis URL, no password (default {DEFAULT_REDIS})")
    add("--redis-password-file", type=Path, help="file holding the Redis password (or $EMOSTREAM_REDIS_PASSWORD)")
    add("--aggregator", default=DEFAULT_AGGREGATOR, help=f"TimelineService HOST:PORT (default {DEFAULT_AGGREGATOR})")
    add("--classifier", help="classifier HOST:PORT, to name the model in timeline.json (ModelInfo)")
    add("--camera", help="camera name for this run (default: the video's stem and a random suffix)")
    add("--token-file", type=Path, help="bearer token file of the gRPC services (or $EMOSTREAM_AGGREGATOR_TOKEN)")
    add("--wait-timeout", type=float, default=600.0, help="longest wait for the stack to finish (s, default 600)")


def camera_name(video: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", video.stem) or "replay"
    return f"{stem}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RemoteResult:
    timeline: Timeline
    source: SourceInfo
    model: ModelInfo
    camera: str


def _model_info(args: argparse.Namespace, version: str, token: str | None) -> ModelInfo:
    if args.classifier:
        from emostream.classifier.client import GrpcEmotionClassifier

        with GrpcEmotionClassifier(args.classifier, 10.0, token=token) as classifier:
            return classifier.info
    return ModelInfo("unknown", version, EMOTIONS)


def _model_version(redis_client: object, camera: str) -> str:
    from emostream.transport.codec import PayloadError, decode_detections
    from emostream.transport.keys import detections_stream

    for _, fields in redis_client.xrevrange(detections_stream(camera), count=1):  # type: ignore[attr-defined]
        try:
            return str(decode_detections(fields).model_version)
        except PayloadError:
            return ""
    return ""


def replay_remote(args: argparse.Namespace) -> RemoteResult:
    """Publish ``args.video``, wait for the aggregator to end its stream, and read the timeline back."""
    from emostream.capture.publisher import publish_video
    from emostream.core.rpc import resolve_token
    from emostream.transport.connection import connect

    video: Path = args.video
    info = probe(video)
    camera = args.camera or camera_name(video)
    token = resolve_token(args.token_file, env="EMOSTREAM_AGGREGATOR_TOKEN")
    redis_client = connect(args.redis, args.redis_password_file, name="replay-remote")
    with TimelineClient(args.aggregator, 30.0, token=token) as client:
        if client.camera(camera) is not None:
            raise EmostreamError(f"camera {camera!r} already has a timeline in the aggregator; pick another --camera")
        events: list[stream_pb2.Event] = []
        ended = threading.Event()
        failure: list[BaseException] = []

        def watch() -> None:  # from the camera's first event on: nothing is missed whenever the watch starts
            try:
                for event in client.watch([camera], after_id="0", timeout=None):
                    events.append(event)
                    if event.type == stream_pb2.EVENT_TYPE_STREAM_ENDED:
                        ended.set()
                        return
            except BaseException as error:
                failure.append(error)
                ended.set()

        watcher = threading.Thread(target=watch, name="watch-events", daemon=True)
        watcher.start()
        with tqdm(total=info.frame_count or None, unit="frame", disable=args.quiet, desc=f"{video.name} ->") as bar:

            def progress(frame: Frame) -> None:
                bar.update(1)

            published = publish_video(redis_client, camera, video, on_frame=progress)
        if not ended.wait(args.wait_timeout):
            raise EmostreamError(
                f"the aggregator at {args.aggregator} did not end camera {camera!r} within {args.wait_timeout:g} s "
                "(is the detector running? `emostream stack status`)"
            )
        if failure:
            raise EmostreamError(f"watching the events of {camera!r} failed: {failure[0]}")
        response = client.timeline(camera, include_frames=True)
        state = client.camera(camera)
        if state is None:
            raise EmostreamError(f"camera {camera!r} vanished from the aggregator (retention too short?)")
    version = _model_version(redis_client, camera)
    redis_client.close()
    timeline = timeline_from_response(response, state, events, size=(info.width, info.height))
    source = SourceInfo(str(video), info.fps, published, info.width, info.height)
    return RemoteResult(timeline, source, _model_info(args, version, token), camera)
