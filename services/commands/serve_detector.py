"""``emostream serve detector``: frames from Redis Streams in, faces with emotions (Detections) out.

Options override the ``EMOSTREAM_DETECTOR_*`` environment. Secrets never go on the command line: the
classifier's bearer token comes from ``--classifier-token-file`` or ``EMOSTREAM_DETECTOR_CLASSIFIER_TOKEN``,
the Redis password from ``--redis-password-file`` or ``EMOSTREAM_REDIS_PASSWORD``. SIGTERM or Ctrl-C stops:
the entry in hand is finished or left pending for another replica.
"""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from pydantic import ValidationError

from emostream.commands.common import fail

_OPTIONS = (
    "redis_url", "redis_password_file", "classifier_target", "classifier_token_file", "classifier_tls_ca",
    "classify_timeout_s", "consumer_name", "replicas", "claim_idle_ms", "live_max_age_ms", "detector",
    "thorough_every", "threads", "host", "metrics_port",
)  # fmt: skip


def add_parser(stages: argparse._SubParsersAction) -> None:
    """Add ``detector`` to the ``serve`` stages."""
    parser = stages.add_parser(
        "detector", help="consumer group over every camera's frames: detect, align, classify (gRPC); /metrics",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add = parser.add_argument
    add("--redis-url", help="redis:// or rediss:// URL, without the password (default redis://127.0.0.1:6379/0)")
    add("--redis-password-file", type=Path, help="file holding the Redis password")
    add("--classifier-target", help="classifier HOST:PORT (default 127.0.0.1:50051)")
    add("--classifier-token-file", type=Path, help="file holding the classifier's bearer token")
    add("--classifier-tls-ca", type=Path, help="PEM CA bundle: TLS to the classifier")
    add("--classify-timeout-s", type=float, help="deadline of one Classify call (default 2)")
    add("--consumer-name", help="consumer name in group 'detector' (default: host name and pid)")
    add("--replicas", type=int, help="worker threads in this process, each its own consumer (default 1)")
    add("--claim-idle-ms", type=int, help="take over another consumer's entries pending this long (default 30000)")
    add("--live-max-age-ms", type=int, help="live: skip a frame older than this (default 1000; 0: no limit)")
    add("--detector", choices=["cascade", "blazeface", "centerface"], help="face detector (default cascade)")
    add("--thorough-every", type=int, help="thorough (small-face) pass every N frames; 0: by frame size")
    add("--threads", type=int, help="ONNX Runtime intra-op threads of the face detector")
    add("--host", help="address of /metrics and /healthz (default 127.0.0.1)")
    add("--metrics-port", type=int, help="/metrics + /healthz port (default 9103; 0: any free port)")
    add("--no-metrics", action="store_true", help="no /metrics endpoint")
    parser.set_defaults(handler=run_detector)


def run_detector(args: argparse.Namespace) -> int:
    from emostream.core.errors import EmostreamError
    from emostream.detector.service import DetectorService
    from emostream.detector.settings import DetectorSettings

    overrides: dict[str, object] = {
        name: getattr(args, name) for name in _OPTIONS if getattr(args, name, None) is not None
    }
    if args.no_metrics:
        overrides["metrics_port"] = None
    try:
        settings = DetectorSettings(**overrides)
    except ValidationError as error:
        messages = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        return fail(f"invalid detector settings: {messages}")
    if not getattr(args, "verbose", False):
        logging.getLogger("emostream").setLevel(logging.INFO)
    try:
        service = DetectorService(settings)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: service.stop_event.set())
        service.start()
        service.run()
    except (EmostreamError, OSError) as error:
        return fail(str(error))
    return 0
