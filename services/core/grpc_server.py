"""What the emostream ``grpc.aio`` services (classifier, aggregator) share: their listening, TLS and token
settings, and the steps of starting and stopping a server (bearer-token interceptor, standard health and
reflection, TLS or plain port, Prometheus ``/metrics``, SIGTERM/SIGINT).

    class MySettings(GrpcServerSettings):
        model_config = SettingsConfigDict(env_prefix="EMOSTREAM_MINE_", extra="forbid")
        port: int = Field(default=50060, ge=0, le=65535)

    server, token = create_server(settings, [("grpc.max_send_message_length", 1 << 24)])
    add_health_and_reflection(server, health_servicer, [MY_SERVICE], settings.reflection)
    port = await start_listening(server, settings)
    http = start_metrics(settings, registry)
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry, start_http_server
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from emostream.core.errors import EmostreamError
from emostream.core.rpc import BearerTokenInterceptor, secret_value, server_credentials


class ServeError(EmostreamError):
    """A service could not start (port taken, bad TLS files, model not loadable)."""


class GrpcServerSettings(BaseSettings):
    """The fields and rules every gRPC service's settings share; each service sets its own ``model_config``
    (env prefix, unknown keys refused, secrets directory) and overrides ``port``/``metrics_port`` defaults."""

    host: str = Field(default="127.0.0.1", description="address to listen on ('0.0.0.0' in a container)")
    port: int = Field(default=0, ge=0, le=65535, description="gRPC port (0: any free port)")
    metrics_port: int | None = Field(default=None, ge=0, le=65535, description="/metrics port (None: off)")
    grace_seconds: float = Field(default=5.0, ge=0, description="on SIGTERM: time in-flight calls get to finish")
    tls_cert: Path | None = Field(default=None, description="PEM certificate chain; TLS when set, with tls_key")
    tls_key: Path | None = None
    token: SecretStr | None = Field(default=None, description="bearer token required on the public APIs")
    token_file: Path | None = Field(default=None, description="file holding the bearer token")
    reflection: bool = True

    @model_validator(mode="after")
    def _check_tls_and_token(self) -> GrpcServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both tls_cert and tls_key")
        if self.token is not None and self.token_file is not None:
            raise ValueError("give the token or token_file, not both")
        return self

    def bearer_token(self) -> str | None:
        """The token calls must carry, or None (no auth)."""
        return secret_value(self.token, self.token_file, "token")


def create_server(settings: GrpcServerSettings, options: Sequence[tuple[str, Any]]) -> tuple[grpc.aio.Server, bool]:
    """A server that refuses calls without the settings' bearer token (if any), and whether it has one.
    A second server on a taken port fails instead of sharing it (``grpc.so_reuseport`` 0)."""
    token = settings.bearer_token()
    server = grpc.aio.server(
        interceptors=[BearerTokenInterceptor(token)] if token else [],
        options=[*options, ("grpc.so_reuseport", 0)],
    )
    return server, bool(token)


def add_health_and_reflection(
    server: grpc.aio.Server, health_servicer: health.aio.HealthServicer, services: Sequence[str], with_reflection: bool
) -> None:
    """Standard health checking, and reflection of ``services`` (plus health and reflection themselves)."""
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if with_reflection:
        reflection.enable_server_reflection((*services, health.SERVICE_NAME, reflection.SERVICE_NAME), server)


async def start_listening(server: grpc.aio.Server, settings: GrpcServerSettings) -> int:
    """Bind the settings' address (TLS with a certificate and key), start serving; returns the port bound."""
    address = f"{settings.host}:{settings.port}"
    try:
        if settings.tls_cert is not None and settings.tls_key is not None:
            port = server.add_secure_port(address, server_credentials(settings.tls_cert, settings.tls_key))
        else:
            port = server.add_insecure_port(address)
    except RuntimeError as error:
        raise ServeError(f"cannot listen on {address} ({error})") from error
    await server.start()
    return port


def start_metrics(settings: GrpcServerSettings, registry: CollectorRegistry) -> WSGIServer | None:
    """Prometheus ``/metrics`` on the settings' metrics port, or None when it is off."""
    if settings.metrics_port is None:
        return None
    http, _ = start_http_server(settings.metrics_port, settings.host, registry=registry)
    return http


def stop_metrics(http: WSGIServer | None) -> None:
    if http is not None:
        http.shutdown()
        http.server_close()


def stop_on_signals() -> asyncio.Event:
    """An event that SIGTERM or SIGINT sets (on the running loop): the service's one stop event."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
