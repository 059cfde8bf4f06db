"""``emostream serve STAGE``: run one stage as a network service: classifier, capture, detector, aggregator.

Each stage's options override its ``EMOSTREAM_<STAGE>_*`` environment (the capture, detector and aggregator
subcommands live in ``serve_<stage>.py``). For the classifier: Secrets never go on the command line:
the bearer token comes from ``--token-file`` or ``EMOSTREAM_CLASSIFIER_TOKEN``. SIGTERM or Ctrl-C stops
gracefully: health turns NOT_SERVING, calls in flight get ``--grace-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from pydantic import ValidationError

from emostream.commands import serve_aggregator, serve_capture, serve_detector
from emostream.commands.common import fail

_CLASSIFIER_OPTIONS = (
    "host", "port", "metrics_port", "model", "threads", "max_batch", "max_delay_ms", "max_queue", "workers",
    "max_crops_per_request", "detector", "grace_seconds", "tls_cert", "tls_key", "token_file",
)  # fmt: skip


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run a stage as a service", description=__doc__)
    stages = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    classifier = stages.add_parser(
        "classifier", help="gRPC EmotionClassifier + FaceAnalyzer, dynamic batching, /metrics",
        description="The classifier service; every option also reads EMOSTREAM_CLASSIFIER_<OPTION>.",
    )  # fmt: skip
    add = classifier.add_argument
    add("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    add("--port", type=int, help="gRPC port (default 50051; 0: any free port)")
    add("--metrics-port", type=int, help="Prometheus /metrics port (default 9101)")
    add("--no-metrics", action="store_true", help="no /metrics endpoint")
    add("--model", type=Path, help="emotion model .onnx (default: the shipped one)")
    add("--threads", type=int, help="ONNX Runtime intra-op threads (0: all cores)")
    add("--max-batch", type=int, help="crops per inference call (1 with --max-delay-ms 0: batching off)")
    add("--max-delay-ms", type=float, help="longest wait of a request for a fuller batch")
    add("--max-queue", type=int, help="requests waiting before RESOURCE_EXHAUSTED")
    add("--workers", type=int, help="inference calls in flight")
    add("--max-crops-per-request", type=int)
    add("--detector", choices=["cascade", "blazeface", "centerface"], help="face detector of Analyze")
    add("--no-analyzer", action="store_true", help="serve EmotionClassifier only")
    add("--grace-seconds", type=float, help="time calls in flight get on SIGTERM")
    add("--tls-cert", type=Path, help="PEM certificate chain (TLS, with --tls-key)")
    add("--tls-key", type=Path, help="PEM private key")
    add("--token-file", type=Path, help="file holding the bearer token calls must carry")
    classifier.set_defaults(handler=run_classifier)
    for stage in (serve_capture, serve_detector, serve_aggregator):
        stage.add_parser(stages)


def validation_message(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())


def run_classifier(args: argparse.Namespace) -> int:
    from emostream.classifier.server import serve
    from emostream.classifier.settings import ClassifierSettings
    from emostream.core.errors import EmostreamError

    overrides: dict[str, object] = {
        name: getattr(args, name) for name in _CLASSIFIER_OPTIONS if getattr(args, name, None) is not None
    }
    if args.no_metrics:
        overrides["metrics_port"] = None
    if args.no_analyzer:
        overrides["analyzer"] = False
    try:
        settings = ClassifierSettings(**overrides)
    except ValidationError as error:
        return fail(f"invalid classifier settings: {validation_message(error)}")
    if not args.verbose:
        logging.getLogger("emostream").setLevel(logging.INFO)
    try:
        asyncio.run(serve(settings))
    except EmostreamError as error:
        return fail(str(error))
    return 0
