"""``emostream serve capture``: frames from cameras, files or URLs into Redis Streams.

Options override the ``EMOSTREAM_CAPTURE_*`` environment. A source URL with credentials belongs in
``EMOSTREAM_CAPTURE_SOURCE`` (or ``EMOSTREAM_CAPTURE_CAMERAS``, a JSON object {camera: source}), not on the
command line; the Redis password in a file or ``EMOSTREAM_REDIS_PASSWORD``. SIGTERM or Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from pydantic import ValidationError

from emostream.commands.common import fail
from emostream.core.redact import redact_url

_OPTIONS = (
    "redis_url", "redis_password_file", "camera", "source", "mode", "maxlen", "high_water", "jpeg_quality",
    "replay_encoding", "stall_timeout_s", "host", "metrics_port",
)  # fmt: skip
log = logging.getLogger("emostream.capture")


def add_parser(stages: argparse._SubParsersAction) -> None:
    """Add ``capture`` to the ``serve`` stages."""
    parser = stages.add_parser(
        "capture", help="webcam, file, RTSP or HTTP (MJPEG) frames into Redis; /metrics and /healthz",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add = parser.add_argument
    add("--redis-url", help="redis:// or rediss:// URL, without the password (default redis://127.0.0.1:6379/0)")
    add("--redis-password-file", type=Path, help="file holding the Redis password")
    add("--camera", help="camera name (default cam0)")
    add("--source", help="webcam index, video file, rtsp:// or http:// URL (credentials: use the environment)")
    add("--mode", choices=["auto", "live", "replay"], help="auto (default): replay for files, live otherwise")
    add("--maxlen", type=int, help="live: entries a frames stream keeps (default 100)")
    add("--high-water", type=int, help="replay: detector backlog at which capture waits (default 32)")
    add("--jpeg-quality", type=int, help="live: JPEG quality (default 90)")
    add("--replay-encoding", choices=["png", "raw"], help="replay: lossless encoding (default png)")
    add("--stall-timeout-s", type=float, help="watchdog: seconds without a frame before reconnecting")
    add("--host", help="address of /metrics and /healthz (default 127.0.0.1)")
    add("--metrics-port", type=int, help="/metrics + /healthz port (default 9102; 0: any free port)")
    add("--no-metrics", action="store_true", help="no /metrics endpoint")
    parser.set_defaults(handler=run_capture)


def run_capture(args: argparse.Namespace) -> int:
    from emostream.capture.service import CaptureService
    from emostream.capture.settings import CaptureSettings
    from emostream.core.errors import EmostreamError

    overrides: dict[str, object] = {
        name: getattr(args, name) for name in _OPTIONS if getattr(args, name, None) is not None
    }
    if args.no_metrics:
        overrides["metrics_port"] = None
    if args.source is not None and redact_url(args.source) != args.source:
        log.warning("event=credentials_on_command_line hint=%s", "set EMOSTREAM_CAPTURE_SOURCE instead of --source")
    try:
        settings = CaptureSettings(**overrides)
    except ValidationError as error:
        messages = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        return fail(f"invalid capture settings: {redact_url(messages)}")
    if not getattr(args, "verbose", False):
        logging.getLogger("emostream").setLevel(logging.INFO)
    try:
        service = CaptureService(settings)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: service.stop_event.set())
        service.start()
        service.run()
    except (EmostreamError, OSError) as error:
        return fail(redact_url(str(error)))
    return 0
