"""What every emostream gRPC service and client shares: bearer-token auth, TLS credentials, channels.

Secrets (the token, TLS keys) are read from files or the environment, never from the command line.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc

from emostream.core.errors import EmostreamError

AUTHORIZATION = "authorization"
TOKEN_ENV = "EMOSTREAM_CLASSIFIER_TOKEN"
HEALTH_PREFIX = "/grpc.health.v1.Health/"


class CredentialsError(EmostreamError):
    """A token or TLS file is missing, unreadable or empty."""


def read_secret_file(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CredentialsError(f"{path}: cannot read the {what} ({error.strerror or error})") from error
    if not data.strip():
        raise CredentialsError(f"{path}: the {what} file is empty")
    return data


def secret_value(inline: Any, path: Path | None, what: str) -> str | None:
    """A secret given inline (a pydantic ``SecretStr``) or in a file, stripped; None when neither (or empty inline)."""
    if inline is not None:
        return str(inline.get_secret_value()).strip() or None
    if path is not None:
        return read_secret_file(path, what).decode().strip()
    return None


def resolve_token(token_file: Path | None = None, env: str = TOKEN_ENV) -> str | None:
    """The bearer token from ``token_file`` if given, else from the environment variable ``env``, else None."""
    if token_file is not None:
        return read_secret_file(token_file, "token").decode().strip()
    return os.environ.get(env) or None


def server_credentials(cert: Path, key: Path) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials([(read_secret_file(key, "TLS key"), read_secret_file(cert, "TLS certificate"))])


def open_channel(
    target: str, tls_ca: Path | None = None, tls: bool = False, options: Sequence[tuple[str, Any]] = ()
) -> grpc.Channel:
    """A blocking channel to ``target`` (HOST:PORT): TLS when ``tls`` or ``tls_ca`` (a CA bundle) is given."""
    if tls or tls_ca is not None:
        roots = read_secret_file(tls_ca, "TLS CA bundle") if tls_ca is not None else None
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots), options=options)
    return grpc.insecure_channel(target, options=options)


def bearer_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying ``token`` (empty without one)."""
    return ((AUTHORIZATION, f"Bearer {token}"),) if token else ()


class BearerTokenInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without ``authorization: Bearer <token>`` with UNAUTHENTICATED.

    Health checks are exempt, so that probes (Kubernetes, load balancers) need no secret.
    """

    def __init__(self, token: str, exempt: Sequence[str] = (HEALTH_PREFIX,)) -> None:
        if not token:
            raise CredentialsError("the bearer token is empty")
        self._expected = f"Bearer {token}".encode()
        self._exempt = tuple(exempt)

    def _authorized(self, details: grpc.HandlerCallDetails) -> bool:
        if details.method.startswith(self._exempt):
            return True
        for key, value in details.invocation_metadata or ():
            if key == AUTHORIZATION:
                given = value.encode() if isinstance(value, str) else value
                return hmac.compare_digest(given, self._expected)
        return False

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or self._authorized(handler_call_details):
            return handler
        return _refusal(handler)


_REFUSED = "missing or wrong bearer token (metadata 'authorization: Bearer <token>')"


def _refusal(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A handler of the same kind as ``handler`` that answers UNAUTHENTICATED."""

    async def unary(request: object, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, _REFUSED)

    async def streaming(request: object, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, _REFUSED)
        yield None  # pragma: no cover (abort raises)

    codecs = {"request_deserializer": handler.request_deserializer, "response_serializer": handler.response_serializer}
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(streaming, **codecs)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(unary, **codecs)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(streaming, **codecs)
    return grpc.unary_unary_rpc_method_handler(unary, **codecs)
