"""How the classifier counts a call that ends by cancellation: expired (its deadline ran out) or cancelled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from emostream.classifier.metrics import ClassifierMetrics
from emostream.classifier.server import DEADLINE_SLACK_S, _answer


class FakeContext:
    def __init__(self, remaining: float | None) -> None:
        self.remaining = remaining

    def time_remaining(self) -> float | None:
        return self.remaining


async def cancelled() -> Any:
    raise asyncio.CancelledError


@pytest.mark.parametrize(
    ("remaining", "code"),
    [
        (0.0, "DEADLINE_EXCEEDED"),
        (DEADLINE_SLACK_S / 2, "DEADLINE_EXCEEDED"),  # the client's cancel overtook our copy of its deadline
        (5.0, "CANCELLED"),  # the client gave up well before its deadline
        (None, "CANCELLED"),  # no deadline at all
    ],
)
def test_a_cancelled_call_is_counted_by_its_deadline(remaining: float | None, code: str) -> None:
    metrics = ClassifierMetrics(CollectorRegistry())
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(_answer("Classify", FakeContext(remaining), metrics, cancelled))  # type: ignore[arg-type]
    labels = {"method": "Classify", "code": code}
    assert metrics.registry.get_sample_value("emostream_classifier_requests_total", labels) == 1
