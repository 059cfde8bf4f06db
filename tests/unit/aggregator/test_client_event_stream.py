"""``EventStream``: a cancelled watch ends its iteration cleanly; other errors say which call failed."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from emostream.aggregator.client import EventStream, TimelineRpcError
from tests.support.fake_rpc import FakeRpcError


class _FakeCall:
    """Yields its events, then fails with CANCELLED once cancelled (as gRPC does), or with ``error``."""

    def __init__(self, events: list[str], error: grpc.StatusCode | None = None) -> None:
        self.events, self.error, self.cancels = events, error, 0

    def __iter__(self) -> Iterator[str]:
        for event in self.events:
            if self.cancels:
                raise FakeRpcError(grpc.StatusCode.CANCELLED)
            yield event
        raise FakeRpcError(self.error or grpc.StatusCode.CANCELLED)

    def cancel(self) -> None:
        self.cancels += 1


def test_cancel_from_a_handler_ends_the_loop_without_an_exception() -> None:
    call = _FakeCall(["a", "b", "c"])
    stream = EventStream(call, "127.0.0.1:1")
    seen = []
    for event in stream:
        seen.append(event)
        stream.cancel()  # what the CLI's SIGINT handler does between two events
    assert seen == ["a"] and call.cancels >= 1


def test_another_error_names_the_target_and_the_call() -> None:
    stream = EventStream(_FakeCall(["a"], grpc.StatusCode.UNAVAILABLE), "127.0.0.1:1")
    assert next(stream) == "a"
    with pytest.raises(TimelineRpcError) as raised:
        next(stream)
    assert "WatchEvents" in str(raised.value) and "127.0.0.1:1" in str(raised.value)
