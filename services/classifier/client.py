"""Clients of the classifier service. :class:`GrpcEmotionClassifier` is an ``EmotionClassifier`` like the
in-process engine, so a detector stage takes either; :func:`analyze_photo` calls ``FaceAnalyzer``.

Calls that fail with UNAVAILABLE (server restarting, model loading) are retried with exponential backoff
and jitter; other errors raise :class:`ClassifierRpcError` at once.

Example::

    with GrpcEmotionClassifier("127.0.0.1:50051", timeout=2.0) as classifier:
        probabilities = classifier.classify(crops)  # (N, 48, 48) uint8 -> (N, 7)
        classifier.info.classes
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
import numpy as np

from emostream.classifier.engine import ModelInfo, validate_crops
from emostream.classifier.wire import crops_request, model_info_from_response, probabilities_from_response
from emostream.core.errors import EmostreamError
from emostream.core.rpc import bearer_metadata, open_channel
from emostream.protos.v1 import analyzer_pb2, analyzer_pb2_grpc, classifier_pb2, classifier_pb2_grpc

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    # gRPC's own reconnect backoff grows to 120 s; keep it near the retry backoff so that a restarted
    # server is found again within seconds.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    # with a target that resolves to several replicas (dns:/// on a headless k8s Service), spread the calls
    ("grpc.lb_policy_name", "round_robin"),
)


class ClassifierRpcError(EmostreamError):
    """A call to the classifier service failed (after its retries); ``code`` is the gRPC status."""

    def __init__(self, target: str, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{target}: {method} failed with {code.name}: {details}")
        self.code = code
        self.details = details


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # calls in all, the first included
    initial_backoff: float = 0.1  # seconds before the first retry
    max_backoff: float = 2.0
    multiplier: float = 2.0
    codes: frozenset[grpc.StatusCode] = field(default_factory=lambda: frozenset({grpc.StatusCode.UNAVAILABLE}))

    def backoff(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (0-based): exponential, with jitter in [50%, 100%]."""
        return min(self.max_backoff, self.initial_backoff * self.multiplier**retry) * random.uniform(0.5, 1.0)


def call_with_retry(
    target: str, method: str, call: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
) -> T:
    """``call()``, retried on ``policy.codes``; gRPC errors become :class:`ClassifierRpcError`."""
    for attempt in range(policy.attempts):
        try:
            return call()
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""
            if code not in policy.codes or attempt + 1 == policy.attempts:
                raise ClassifierRpcError(target, method, code, details) from error
            pause = policy.backoff(attempt)
            log.info("event=retry method=%s code=%s attempt=%d backoff_s=%.2f", method, code.name, attempt + 1, pause)
            sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


class GrpcEmotionClassifier:
    """``EmotionClassifier`` over gRPC. ``timeout`` is each attempt's deadline, in seconds; the token (if any)
    is sent as ``authorization: Bearer``; ``tls_ca`` (a PEM bundle) or ``tls`` turns TLS on."""

    def __init__(
        self,
        target: str,
        timeout: float = 5.0,
        *,
        retry: RetryPolicy | None = None,
        token: str | None = None,
        tls: bool = False,
        tls_ca: Path | None = None,
        options: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._metadata = bearer_metadata(token)
        self._channel = open_channel(target, tls_ca, tls, CHANNEL_OPTIONS + tuple(options))
        self._stub = classifier_pb2_grpc.EmotionClassifierStub(self._channel)
        self._info: ModelInfo | None = None

    @property
    def info(self) -> ModelInfo:
        """The served model's description (asked once, then cached)."""
        if self._info is None:
            response = self._call(
                "ModelInfo", lambda: self._stub.ModelInfo(classifier_pb2.ModelInfoRequest(), **self._kwargs())
            )
            self._info = model_info_from_response(response)
        return self._info

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """(N, 48, 48) uint8 crops -> (N, C) float32 probabilities, from the server."""
        validate_crops(crops)
        if len(crops) == 0:
            return np.zeros((0, len(self.info.classes)), np.float32)
        request = crops_request(crops)
        response = self._call("Classify", lambda: self._stub.Classify(request, **self._kwargs()))
        return probabilities_from_response(response, len(crops))

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> GrpcEmotionClassifier:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _kwargs(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "metadata": self._metadata}

    def _call(self, method: str, call: Callable[[], T]) -> T:
        return call_with_retry(self.target, method, call, self.retry)


def analyze_photo(
    target: str,
    image: bytes,
    timeout: float = 30.0,
    *,
    retry: RetryPolicy | None = None,
    token: str | None = None,
    tls: bool = False,
    tls_ca: Path | None = None,
) -> analyzer_pb2.AnalyzeResponse:
    """Every face of an encoded photo (JPEG, PNG, ...) with its probabilities, from ``FaceAnalyzer``."""
    request = analyzer_pb2.AnalyzeRequest(image=image)
    with open_channel(target, tls_ca, tls, CHANNEL_OPTIONS) as channel:
        stub = analyzer_pb2_grpc.FaceAnalyzerStub(channel)
        metadata = bearer_metadata(token)
        return call_with_retry(
            target, "Analyze", lambda: stub.Analyze(request, timeout=timeout, metadata=metadata), retry or RetryPolicy()
        )
