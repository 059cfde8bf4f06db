"""Crops and probabilities on the wire, the request checks, and the client's retry loop."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from emostream.classifier.client import ClassifierRpcError, RetryPolicy, call_with_retry
from emostream.classifier.errors import InvalidRequestError, TooManyCropsError, grpc_status
from emostream.classifier.wire import (
    crops_from_request,
    crops_request,
    probabilities_from_response,
    probabilities_response,
)
from emostream.protos.v1 import classifier_pb2
from tests.support.fake_rpc import FakeRpcError


def test_crops_round_trip() -> None:
    crops = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(crops_from_request(crops_request(crops), max_crops=3), crops)
    probabilities = np.random.default_rng(1).random((3, 7)).astype(np.float32)
    response = probabilities_response(probabilities, "1")
    np.testing.assert_array_equal(probabilities_from_response(response, 3), probabilities)
    with pytest.raises(InvalidRequestError, match="asked for 2"):
        probabilities_from_response(response, 2)


@pytest.mark.parametrize(
    ("count", "size", "nbytes", "error", "message"),
    [
        (0, 48, 0, InvalidRequestError, "count is 0"),
        (5, 48, 5 * 2304, TooManyCropsError, "over the limit of 4"),
        (1, 64, 64 * 64, InvalidRequestError, "must be 48x48"),
        (2, 48, 2304, InvalidRequestError, "holds 2304 bytes"),
    ],
)
def test_bad_requests_say_what_is_wrong(count: int, size: int, nbytes: int, error: type, message: str) -> None:
    request = classifier_pb2.ClassifyRequest(crops=bytes(nbytes), count=count, height=size, width=size)
    with pytest.raises(error, match=message):
        crops_from_request(request, max_crops=4)


def test_each_error_maps_to_one_status() -> None:
    assert grpc_status(InvalidRequestError("x")) == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_status(TooManyCropsError("x")) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert grpc_status(KeyError("x")) == grpc.StatusCode.INTERNAL


def test_retries_unavailable_with_growing_backoff_then_succeeds() -> None:
    outcomes: list[object] = [FakeRpcError(grpc.StatusCode.UNAVAILABLE)] * 3 + ["ok"]
    pauses: list[float] = []

    def call() -> object:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(attempts=5, initial_backoff=0.1, max_backoff=0.3)
    assert call_with_retry("t", "Classify", call, policy, sleep=pauses.append) == "ok"
    assert len(pauses) == 3 and pauses[0] <= 0.1 and 0.15 <= pauses[2] <= 0.3


@pytest.mark.parametrize("code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAVAILABLE])
def test_gives_up_at_once_on_other_codes_and_after_the_last_attempt(code: grpc.StatusCode) -> None:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise FakeRpcError(code)

    with pytest.raises(ClassifierRpcError, match=code.name) as caught:
        call_with_retry("host:1", "Classify", call, RetryPolicy(attempts=3), sleep=lambda _: None)
    assert caught.value.code == code
    assert len(calls) == (3 if code == grpc.StatusCode.UNAVAILABLE else 1)
