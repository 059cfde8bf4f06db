"""A small reorder buffer: entries come in roughly by seq (detector replicas race); they leave strictly by seq.

A missing seq is waited for at most ``wait_s`` (measured from when the first later entry arrived; an entry may
bring its own, shorter wait, e.g. a live frame) or until ``window`` later entries are held; then it is skipped and
reported, so that one lost frame never stalls a camera.

Example:
    >>> buffer = ReorderBuffer(window=8, wait_s=1.0, next_seq=0)
    >>> buffer.push(1, "b", now=0.0), buffer.push(0, "a", now=0.1)
    (True, True)
    >>> [(r.seq, r.item) for r in buffer.pop_ready(now=0.1)]
    [(0, 'a'), (1, 'b')]
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Released(Generic[T]):
    """An entry leaving the buffer; ``skipped`` are the seqs given up on just before it (a gap)."""

    seq: int
    item: T
    skipped: range = range(0)


class ReorderBuffer(Generic[T]):
    """Holds entries until every lower seq has been released (or given up on).

    Args:
        window: most entries held behind a gap; one more and the gap is skipped.
        wait_s: longest wait for a gap to fill.
        next_seq: the seq expected next (None: not known yet, e.g. a fresh camera; the first entries set it,
            after the same bounded wait for lower ones).
    """

    def __init__(self, window: int, wait_s: float, next_seq: int | None = None) -> None:
        self.window, self.wait_s, self.next_seq = window, wait_s, next_seq
        self._heap: list[tuple[int, int]] = []  # (seq, arrival order)
        self._items: dict[int, tuple[T, float]] = {}  # seq -> (item, when a gap before it is given up on)
        self._order = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, seq: int) -> bool:
        return seq in self._items

    def push(self, seq: int, item: T, now: float, wait_s: float | None = None) -> bool:
        """Hold ``item``; False (and nothing held) when ``seq`` was already released, skipped or is held.
        ``wait_s``: how long a gap just before it may hold it (None: the buffer's ``wait_s``)."""
        if (self.next_seq is not None and seq < self.next_seq) or seq in self._items:
            return False
        self._items[seq] = (item, now + (self.wait_s if wait_s is None else wait_s))
        heapq.heappush(self._heap, (seq, self._order))
        self._order += 1
        return True

    def pop_ready(self, now: float) -> list[Released[T]]:
        """Everything that can leave now, in seq order, skipping gaps that waited long enough."""
        out: list[Released[T]] = []
        while self._heap:
            seq = self._heap[0][0]
            if self.next_seq is None and seq == 0:
                self.next_seq = 0
            if seq == self.next_seq:
                out.append(self._pop())
                continue
            _, deadline = self._items[seq]
            if len(self._items) > self.window or now >= deadline:
                start = seq if self.next_seq is None else self.next_seq
                released = self._pop()
                out.append(Released(released.seq, released.item, range(start, seq)))
                continue
            break
        return out

    def deadline(self) -> float | None:
        """When the entry first in line gives up on the gap before it (None: nothing held)."""
        if not self._heap:
            return None
        return self._items[self._heap[0][0]][1]

    def flush(self) -> list[Released[T]]:
        """Release everything held, in seq order, skipping every gap (the stream ended)."""
        return self.pop_ready(now=float("inf"))

    def _pop(self) -> Released[T]:
        seq, _ = heapq.heappop(self._heap)
        item, _ = self._items.pop(seq)
        self.next_seq = seq + 1
        return Released(seq, item)
