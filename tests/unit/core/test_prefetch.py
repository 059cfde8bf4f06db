"""Prefetch: items from a background thread, in order, grouped as they are ready (or in full groups)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from emostream.core.prefetch import Prefetch


def _slow(count: int, gate: threading.Event | None = None) -> Iterator[int]:
    for item in range(count):
        if gate is not None and item == 1:
            gate.wait(5)  # the consumer has taken the first item alone by now
        yield item


def test_waiting_batches_are_full_but_the_last() -> None:
    batches = list(Prefetch(range(10), depth=2).batches(4, wait=True))
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_without_waiting_a_batch_is_what_is_ready() -> None:
    gate = threading.Event()
    batches = Prefetch(_slow(3, gate), depth=4).batches(8)
    assert next(batches) == [0]
    gate.set()
    rest = [item for batch in batches for item in batch]
    assert rest == [1, 2]


@pytest.mark.parametrize("wait", [False, True])
def test_errors_reach_the_consumer(wait: bool) -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("decoder broke")

    with pytest.raises(ValueError, match="decoder broke"):
        list(Prefetch(broken()).batches(4, wait=wait))


def test_iteration_yields_every_item_in_order() -> None:
    assert list(Prefetch(range(25), depth=3)) == list(range(25))
