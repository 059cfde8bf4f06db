"""A ``grpc.RpcError`` with a status code, as gRPC raises from a failed call; for unit tests without a server."""

from __future__ import annotations

import grpc


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return f"fake {self._code.name}"
