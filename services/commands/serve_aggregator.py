"""``emostream serve aggregator``: the aggregator service (detections in, tracks, timelines and events out,
gRPC TimelineService, ``/metrics``).

Options override the ``EMOSTREAM_AGGREGATOR_*`` environment. Secrets never go on the command line: the
Redis password and the bearer token come from files or the environment. SIGTERM or Ctrl-C stops gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from pydantic import ValidationError

from emostream.commands.common import fail

_OPTIONS = (
    "redis_url", "redis_password_file", "host", "port", "metrics_port", "retention_seconds", "consumer",
    "cameras", "grace_seconds", "tls_cert", "tls_key", "token_file",
)  # fmt: skip


def add_parser(stages: argparse._SubParsersAction) -> None:
    """Add ``aggregator`` to the ``serve`` stages."""
    parser = stages.add_parser(
        "aggregator", help="tracks, timelines and events from the detections streams; gRPC TimelineService",
        description="The aggregator service; every option also reads EMOSTREAM_AGGREGATOR_<OPTION>.",
    )  # fmt: skip
    add = parser.add_argument
    add("--redis-url", help="redis:// or rediss:// URL, without the password (default redis://127.0.0.1:6379/0)")
    add("--redis-password-file", type=Path, help="file holding the Redis password")
    add("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    add("--port", type=int, help="gRPC TimelineService port (default 50053; 0: any free port)")
    add("--metrics-port", type=int, help="Prometheus /metrics port (default 9104)")
    add("--no-metrics", action="store_true", help="no /metrics endpoint")
    add("--retention-seconds", type=float, help="how long a camera's timeline and events are kept")
    add("--consumer", help="this replica's consumer name (default: host name and pid)")
    add("--cameras", nargs="+", help="only these cameras (default: every camera that appears)")
    add("--grace-seconds", type=float, help="time calls in flight get on SIGTERM")
    add("--tls-cert", type=Path, help="PEM certificate chain (TLS, with --tls-key)")
    add("--tls-key", type=Path, help="PEM private key")
    add("--token-file", type=Path, help="file holding the bearer token calls must carry")
    parser.set_defaults(handler=run_aggregator)


def run_aggregator(args: argparse.Namespace) -> int:
    from emostream.aggregator.service import serve
    from emostream.aggregator.settings import AggregatorSettings
    from emostream.core.errors import EmostreamError

    overrides: dict[str, object] = {
        name: getattr(args, name) for name in _OPTIONS if getattr(args, name, None) is not None
    }
    if args.no_metrics:
        overrides["metrics_port"] = None
    try:
        settings = AggregatorSettings(**overrides)
    except ValidationError as error:
        messages = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        return fail(f"invalid aggregator settings: {messages}")
    if not getattr(args, "verbose", False):
        logging.getLogger("emostream").setLevel(logging.INFO)
    try:
        asyncio.run(serve(settings))
    except EmostreamError as error:
        return fail(str(error))
    return 0
