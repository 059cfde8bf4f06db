"""Crops and probabilities on the wire (``emostream.v1.EmotionClassifier``), both directions, checked."""

from __future__ import annotations

import numpy as np

from emostream.classifier.engine import CROP_SIZE, ModelInfo, validate_crops
from emostream.classifier.errors import InvalidRequestError, TooManyCropsError
from emostream.protos.v1 import classifier_pb2


def crops_request(crops: np.ndarray) -> classifier_pb2.ClassifyRequest:
    """(N, 48, 48) uint8 -> ClassifyRequest (raw bytes, row-major)."""
    validate_crops(crops)
    count, height, width = crops.shape
    return classifier_pb2.ClassifyRequest(
        crops=np.ascontiguousarray(crops).tobytes(), count=count, height=height, width=width
    )


def crops_from_request(request: classifier_pb2.ClassifyRequest, max_crops: int) -> np.ndarray:
    """The request's crops as an (N, 48, 48) uint8 view, or the error that says what is wrong with it."""
    if request.count == 0:
        raise InvalidRequestError("count is 0: send at least one crop")
    if request.count > max_crops:
        raise TooManyCropsError(
            f"count {request.count} is over the limit of {max_crops} crops per request; split the request"
        )
    if (request.height, request.width) != (CROP_SIZE, CROP_SIZE):
        raise InvalidRequestError(
            f"crops must be {CROP_SIZE}x{CROP_SIZE} (height x width), got {request.height}x{request.width}"
        )
    expected = request.count * CROP_SIZE * CROP_SIZE
    if len(request.crops) != expected:
        raise InvalidRequestError(
            f"crops holds {len(request.crops)} bytes; count x height x width = "
            f"{request.count} x {CROP_SIZE} x {CROP_SIZE} needs {expected} (uint8, row-major)"
        )
    return np.frombuffer(request.crops, np.uint8).reshape(request.count, CROP_SIZE, CROP_SIZE)


def probabilities_response(probabilities: np.ndarray, model_version: str) -> classifier_pb2.ClassifyResponse:
    count, num_classes = probabilities.shape
    return classifier_pb2.ClassifyResponse(
        probabilities=np.asarray(probabilities, np.float32).ravel().tolist(),
        count=count,
        num_classes=num_classes,
        model_version=model_version,
    )


def probabilities_from_response(response: classifier_pb2.ClassifyResponse, count: int) -> np.ndarray:
    """(count, C) float32, checked against what was asked."""
    values = np.asarray(response.probabilities, np.float32)
    if response.count != count or response.num_classes == 0 or values.size != count * response.num_classes:
        raise InvalidRequestError(
            f"malformed ClassifyResponse: {values.size} values for count={response.count} "
            f"num_classes={response.num_classes}, asked for {count} crops"
        )
    return values.reshape(count, response.num_classes)


def model_info_response(info: ModelInfo, max_batch: int, max_crops: int) -> classifier_pb2.ModelInfoResponse:
    return classifier_pb2.ModelInfoResponse(
        name=info.name,
        version=info.version,
        classes=list(info.classes),
        input=classifier_pb2.InputSpec(
            height=info.input_size, width=info.input_size, channels=1, dtype="uint8", layout="NHW"
        ),
        temperature=info.temperature,
        providers=list(info.providers),
        max_batch=max_batch,
        max_crops_per_request=max_crops,
    )


def model_info_from_response(response: classifier_pb2.ModelInfoResponse) -> ModelInfo:
    return ModelInfo(
        name=response.name,
        version=response.version,
        classes=tuple(response.classes),
        input_size=response.input.height,
        temperature=response.temperature,
        providers=tuple(response.providers),
    )
