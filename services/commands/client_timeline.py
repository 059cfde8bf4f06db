"""``emostream client timeline|watch``: read a running aggregator's TimelineService.

emostream client timeline                      # the cameras (ListCameras)
emostream client timeline door --tracks        # their tracks, every page (ListTracks)
emostream client timeline door --frames --json # tracks, segments and frames (GetTimeline)
emostream client watch door                    # one line per event until Ctrl-C (WatchEvents)
"""

from __future__ import annotations

import argparse
import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from emostream.commands.common import fail
from emostream.core.errors import EmostreamError
from emostream.protos.v1 import stream_pb2, timeline_pb2

if TYPE_CHECKING:
    from emostream.aggregator.client import EventStream, TimelineClient

DEFAULT_TARGET = "127.0.0.1:50053"
TOKEN_ENV = "EMOSTREAM_AGGREGATOR_TOKEN"
EVENT_TYPES = {
    "track_started": stream_pb2.EVENT_TYPE_TRACK_STARTED,
    "track_ended": stream_pb2.EVENT_TYPE_TRACK_ENDED,
    "emotion_changed": stream_pb2.EVENT_TYPE_EMOTION_CHANGED,
    "stream_ended": stream_pb2.EVENT_TYPE_STREAM_ENDED,
}
EVENT_NAMES = {value: name for name, value in EVENT_TYPES.items()}
Connection = Callable[..., None]


def add_timeline_parsers(calls: argparse._SubParsersAction, connection: Connection) -> None:
    timeline = calls.add_parser("timeline", help="cameras, tracks and timelines of a running aggregator",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    connection(timeline, timeout=10.0, target=DEFAULT_TARGET)
    add = timeline.add_argument
    add("camera", nargs="?", help="a camera (none: list the cameras)")
    add("--tracks", action="store_true", help="list the camera's tracks (ListTracks) instead of its timeline")
    add("--active", action="store_true", help="with --tracks: only the tracks still seen")
    add("--track", type=int, help="one track only")
    add("--frames", action="store_true", help="include every per-frame record")
    add("--start", type=float, help="from this presentation time (s)")
    add("--end", type=float, help="up to this presentation time (s)")
    add("--json", action="store_true", help="JSON on stdout")
    timeline.set_defaults(handler=run_timeline)

    watch = calls.add_parser("watch", help="a running aggregator's events as they happen (Ctrl-C stops)")
    connection(watch, timeout=10.0, target=DEFAULT_TARGET)
    watch.add_argument("cameras", nargs="*", help="cameras to watch (none: every camera)")
    watch.add_argument("--after", default="", help="resume after this event id (0: from the oldest kept)")
    watch.add_argument("--type", action="append", choices=sorted(EVENT_TYPES), help="only these types")
    watch.add_argument("--json", action="store_true", help="one JSON object per event")
    watch.set_defaults(handler=run_watch)


def _client(args: argparse.Namespace) -> TimelineClient:
    from emostream.aggregator.client import TimelineClient
    from emostream.core.rpc import resolve_token

    token_file: Path | None = args.token_file
    token = resolve_token(token_file, env=TOKEN_ENV)
    return TimelineClient(args.target, args.timeout, token=token, tls=args.tls, tls_ca=args.tls_ca)


def _json(message: Message) -> str:
    return json.dumps(MessageToDict(message, preserving_proto_field_name=True), sort_keys=True)


def run_timeline(args: argparse.Namespace) -> int:
    try:
        with _client(args) as client:
            if args.camera is None:
                cameras = client.cameras()
                for camera in cameras:
                    if args.json:
                        print(_json(camera))
                    else:
                        state = "ended" if camera.ended else f"{camera.active_tracks} active tracks"
                        print(f"{camera.name}: {camera.frames} frames, pts {camera.first_pts:.2f}-"
                              f"{camera.last_pts:.2f} s, {state}")  # fmt: skip
                if not cameras and not args.json:
                    print(f"{args.target}: no cameras yet")
                return 0
            if args.tracks:
                for track in client.tracks(args.camera, active_only=args.active):
                    print(_json(track) if args.json else _track_line(track))
                return 0
            response = client.timeline(args.camera, args.track, args.frames, args.start, args.end)
    except EmostreamError as error:
        return fail(str(error))
    if args.json:
        print(_json(response))
        return 0
    print(f"{response.camera}: {len(response.tracks)} track(s)")
    for track in response.tracks:
        print(_track_line(track.track))
        for seg in track.segments:
            print(f"    {seg.start_pts:8.2f}-{seg.end_pts:8.2f} s  {seg.label:<9} {seg.frames:5d} frames"
                  f"  mean confidence {seg.mean_confidence:.2f}")  # fmt: skip
    return 0


def _track_line(t: timeline_pb2.TrackSummary) -> str:
    active = " (active)" if t.active else ""
    return (
        f"  track {t.track_id}: seq {t.first_seq}-{t.last_seq}, pts {t.first_pts:.2f}-{t.last_pts:.2f} s, "
        f"{t.frame_count} frames, {t.label}{active}"
    )


def event_line(event: stream_pb2.Event) -> str:
    """One human-readable line per event."""
    kind = EVENT_NAMES.get(event.type, str(event.type))
    text = f"{event.id} {event.camera} seq={event.seq} pts={event.pts:.2f} {kind}"
    if event.type != stream_pb2.EVENT_TYPE_STREAM_ENDED:
        text += f" track={event.track_id}"
    if event.type == stream_pb2.EVENT_TYPE_EMOTION_CHANGED:
        text += f" {event.previous or '-'} -> {event.label} ({event.confidence:.2f})"
    return text


def _stop(stream: EventStream) -> None:
    """Ctrl-C ends the stream (the loop then exits cleanly); a second Ctrl-C interrupts as usual."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stream.cancel()


def run_watch(args: argparse.Namespace) -> int:
    types = [EVENT_TYPES[name] for name in args.type or ()]
    try:
        with _client(args) as client:
            stream = client.watch(args.cameras, after_id=args.after, types=types)
            previous = signal.signal(signal.SIGINT, lambda *_: _stop(stream))
            try:
                for event in stream:
                    print(_json(event) if args.json else event_line(event), flush=True)
            finally:
                signal.signal(signal.SIGINT, previous)
    except KeyboardInterrupt:  # before the stream was open, or a second Ctrl-C
        return 0
    except EmostreamError as error:
        return fail(str(error))
    return 0
