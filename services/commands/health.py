"""``emostream health grpc|http``: one health probe, exit 0 when healthy, 1 when not (container healthchecks).

    emostream health grpc 127.0.0.1:50051                  # standard grpc.health.v1 Check, overall server
    emostream health grpc classifier:50051 --service emostream.v1.EmotionClassifier
    emostream health http http://127.0.0.1:9102/healthz   # any 2xx is healthy

Health checks need no bearer token (servers exempt them). Only light modules are imported, so a probe every
few seconds costs little.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "health", help="probe a service's health (exit 0: healthy)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    grpc_probe = kinds.add_parser("grpc", help="standard gRPC health check (grpc.health.v1.Health/Check)")
    grpc_probe.add_argument("target", help="HOST:PORT")
    grpc_probe.add_argument("--service", default="", help="service name to check (default: the whole server)")
    grpc_probe.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    grpc_probe.add_argument("--tls", action="store_true", help="connect with TLS (system roots)")
    grpc_probe.add_argument("--tls-ca", type=Path, help="CA bundle for TLS (implies --tls)")
    grpc_probe.set_defaults(handler=run_grpc)
    http_probe = kinds.add_parser("http", help="HTTP GET; any 2xx status is healthy")
    http_probe.add_argument("url", help="e.g. http://127.0.0.1:9102/healthz")
    http_probe.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    http_probe.set_defaults(handler=run_http)


def _unhealthy(message: str) -> int:
    print(f"emostream health: {message}", file=sys.stderr)
    return 1


def run_grpc(args: argparse.Namespace) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from emostream.core.errors import EmostreamError
    from emostream.core.rpc import open_channel

    try:
        channel = open_channel(args.target, tls_ca=args.tls_ca, tls=args.tls)
    except EmostreamError as error:
        return _unhealthy(str(error))
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout)
        except grpc.RpcError as error:
            return _unhealthy(f"{args.target}: {error.code().name}: {error.details()}")
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        return _unhealthy(f"{args.target} {args.service or '(server)'}: {status}")
    print(status)
    return 0


def run_http(args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://", "https://")):
        return _unhealthy(f"{args.url!r} is not an http(s) URL")
    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return _unhealthy(f"{args.url}: HTTP {error.code}")
    except (urllib.error.URLError, OSError) as error:
        return _unhealthy(f"{args.url}: {getattr(error, 'reason', error)}")
    print(f"HTTP {status}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m emostream.commands.health ...``: the same probe without the whole CLI's imports."""
    parser = argparse.ArgumentParser(prog="emostream")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["health", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
