"""The classifier service's errors, each mapped once (here) to a gRPC status code."""

from __future__ import annotations

import grpc

from emostream.classifier.engine import CropShapeError, ModelLoadError
from emostream.core.errors import EmostreamError, ImageDecodeError


class InvalidRequestError(EmostreamError):
    """A request is malformed: zero crops, the wrong crop size, or a byte count that does not match."""


class TooManyCropsError(EmostreamError):
    """A request holds more crops than the server takes in one call (split it)."""


class QueueFullError(EmostreamError):
    """The batcher's queue is full: the request is shed; retry later with backoff."""


class DeadlineExpiredError(EmostreamError):
    """The request's deadline passed before its crops reached the model; it was dropped unclassified."""


class NotServingError(EmostreamError):
    """The model is still loading, or the service is shutting down."""


class InferenceError(EmostreamError):
    """The engine failed on a batch."""


GRPC_STATUS: dict[type[BaseException], grpc.StatusCode] = {
    InvalidRequestError: grpc.StatusCode.INVALID_ARGUMENT,
    CropShapeError: grpc.StatusCode.INVALID_ARGUMENT,
    ImageDecodeError: grpc.StatusCode.INVALID_ARGUMENT,
    TooManyCropsError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    QueueFullError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    DeadlineExpiredError: grpc.StatusCode.DEADLINE_EXCEEDED,
    NotServingError: grpc.StatusCode.UNAVAILABLE,
    ModelLoadError: grpc.StatusCode.UNAVAILABLE,
    InferenceError: grpc.StatusCode.INTERNAL,
}


MAPPED_ERRORS: tuple[type[BaseException], ...] = (EmostreamError, *GRPC_STATUS)
"""What a servicer answers with a status of its own (anything else is INTERNAL, and logged)."""


def grpc_status(error: BaseException) -> grpc.StatusCode:
    """The status code of ``error`` (by its nearest mapped base class); INTERNAL for anything unexpected."""
    for cls in type(error).__mro__:
        if cls in GRPC_STATUS:
            return GRPC_STATUS[cls]
    return grpc.StatusCode.INTERNAL
