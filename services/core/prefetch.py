"""Run an iterable in a background thread, a bounded number of items ahead (decoding ahead of its consumer)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

_END = object()
T = TypeVar("T")


class Prefetch(Generic[T]):
    """Runs an iterable in a background thread, up to ``depth`` items ahead; errors are re-raised here.

    Iterate it one item at a time, or take ``batches(n)``: whatever is ready, at least one item
    and at most ``n``, so a consumer can group work without ever waiting for a fuller group.
    """

    def __init__(self, items: Iterable[T], depth: int = 8, name: str = "prefetch") -> None:
        self._items = items
        self._buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)

    def _produce(self) -> None:
        try:
            for item in self._items:
                while not self._stop.is_set():
                    try:
                        self._buffer.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._buffer.put(_END)
        except BaseException as error:  # handed to the consumer, which re-raises it
            self._buffer.put(error)
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()  # a generator's own threads stop with it

    def _unwrap(self, item: object) -> T:
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]

    def batches(self, most: int, wait: bool = False) -> Iterator[list[T]]:
        """Groups of at most ``most`` items: what is ready, or with ``wait`` full groups (the last may be short)."""
        self._thread.start()
        try:
            while True:
                item = self._buffer.get()
                if item is _END:
                    return
                batch = [self._unwrap(item)]
                while len(batch) < most:
                    if wait:
                        item = self._buffer.get()
                    else:
                        try:
                            item = self._buffer.get_nowait()
                        except queue.Empty:  # nothing more ready: this group goes now
                            break
                    if item is _END:
                        yield batch
                        return
                    batch.append(self._unwrap(item))
                yield batch
        finally:
            self._stop.set()

    def __iter__(self) -> Iterator[T]:
        for batch in self.batches(1):
            yield from batch


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate ``items`` in a background thread, ``depth`` items ahead."""
    return iter(Prefetch(items, depth))
