"""Readiness probes of the stack's services: gRPC health, an HTTP status, a Redis PING. Each answers at once
(timeouts of a second) and never raises for a service that is not there yet."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def grpc_serving(target: str, service: str = "") -> bool:
    try:
        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1.0
            )
        return response.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return None


def http_answers(url: str) -> bool:
    """The endpoint answers at all (a 503 from /healthz is an answer: the process is up)."""
    return http_status(url) is not None


def http_ok(url: str) -> bool:
    return http_status(url) == 200


def redis_ready(host: str, port: int, password_file: Path) -> bool:
    """Redis answers PING with the password of ``password_file``."""
    import redis

    client = redis.Redis(host, port, password=password_file.read_text().strip(), socket_timeout=1.0,
                         socket_connect_timeout=1.0)  # fmt: skip
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
        return False
    finally:
        client.close()
