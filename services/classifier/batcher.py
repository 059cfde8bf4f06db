"""Dynamic batching of classify requests, after Triton's dynamic batcher.

Requests (each: the crops of one frame) wait in a bounded queue. When a worker is free, the requests
waiting go to the model as one batch of at most ``max_batch`` crops; whole requests are never split, so a
request larger than ``max_batch`` runs alone. By default (``max_delay_ms`` 0) batching is opportunistic:
under load the queue fills while the model runs, so batches grow with the load, and a lone request at
low load runs at once instead of waiting for company (``bench.classifier_service`` compares it with a 2 ms
wait at every concurrency). A ``max_delay_ms`` above 0 holds the oldest request that long for a fuller batch
while a worker is idle, trading latency for larger batches where a call costs much more than a crop (a GPU).
A full queue refuses new requests
(:class:`QueueFullError`), and a request whose deadline has passed is dropped before inference
(:class:`DeadlineExpiredError`). The model runs in worker threads; the event loop stays free.

``BatcherConfig.unbatched()`` turns batching off (every request alone, at once): the baseline of the
benchmark.

Example:
    >>> import asyncio, numpy as np
    >>> class Uniform:  # any EmotionClassifier
    ...     info = None
    ...     def classify(self, crops): return np.full((len(crops), 7), 1 / 7, np.float32)
    >>> async def main():
    ...     async with DynamicBatcher(Uniform(), BatcherConfig(max_batch=8, max_delay_ms=1)) as batcher:
    ...         return await batcher.classify(np.zeros((3, 48, 48), np.uint8), time_left=1.0)
    >>> asyncio.run(main()).shape
    (3, 7)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from emostream.classifier.engine import EmotionClassifier, validate_crops
from emostream.classifier.errors import DeadlineExpiredError, InferenceError, NotServingError, QueueFullError
from emostream.classifier.metrics import ClassifierMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatcherConfig:
    max_batch: int = 32  # crops per inference call (a larger request runs alone)
    max_delay_ms: float = 0.0  # longest wait of the oldest request for a fuller batch (0: opportunistic)
    max_queue: int = 128  # requests waiting; one more is refused (RESOURCE_EXHAUSTED)
    workers: int = 1  # inference calls in flight at once (threads)

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_queue < 1 or self.workers < 1:
            raise ValueError(f"max_batch, max_queue and workers must be >= 1: {self}")
        if self.max_delay_ms < 0:
            raise ValueError(f"max_delay_ms must be >= 0, got {self.max_delay_ms}")

    @classmethod
    def unbatched(cls, max_queue: int = 128, workers: int = 1) -> BatcherConfig:
        """Batching off: every request is its own inference call, sent at once."""
        return cls(max_batch=1, max_delay_ms=0.0, max_queue=max_queue, workers=workers)


@dataclass(eq=False)
class _Request:
    crops: np.ndarray
    future: asyncio.Future[np.ndarray]
    enqueued: float  # loop.time()
    deadline: float | None  # loop.time(), None: no deadline


class DynamicBatcher:
    """Batches concurrent ``classify`` calls into fewer, larger engine calls. Use it as an async context
    manager, or call :meth:`start` and :meth:`close` in the event loop it serves."""

    def __init__(
        self,
        engine: EmotionClassifier,
        config: BatcherConfig | None = None,
        metrics: ClassifierMetrics | None = None,
    ) -> None:
        from prometheus_client import CollectorRegistry

        self.engine = engine
        self.config = config or BatcherConfig()
        self.metrics = metrics or ClassifierMetrics(CollectorRegistry())
        self._pending: deque[_Request] = deque()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(self.config.workers)
        self._executor = ThreadPoolExecutor(self.config.workers, thread_name_prefix="classifier-infer")
        self._inflight: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def depth(self) -> int:
        """Requests waiting for a batch."""
        return len(self._pending)

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="classifier-batcher")

    async def close(self) -> None:
        """Refuse new requests, run the queued ones, wait for the batches in flight, stop the workers."""
        self._closed = True
        self._wakeup.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> DynamicBatcher:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def classify(self, crops: np.ndarray, time_left: float | None = None) -> np.ndarray:
        """(N, 48, 48) uint8 -> (N, C) probabilities, batched with other callers' crops.

        ``time_left``: seconds the caller still waits (a gRPC deadline's remainder); a request still queued
        when it runs out is dropped with :class:`DeadlineExpiredError` (the call itself does not time out).
        """
        validate_crops(crops)
        if self._closed or self._loop_task is None:
            raise NotServingError("the classifier is not running (starting or shutting down)")
        if len(crops) == 0:
            return np.zeros((0, len(self.engine.info.classes)), np.float32)
        if time_left is not None and time_left <= 0:
            raise DeadlineExpiredError("the deadline had passed before the request reached the classifier")
        if len(self._pending) >= self.config.max_queue:
            raise QueueFullError(
                f"classifier queue is full ({self.config.max_queue} requests waiting); retry with backoff"
            )
        loop = asyncio.get_running_loop()
        now = loop.time()
        request = _Request(crops, loop.create_future(), now, None if time_left is None else now + time_left)
        self._pending.append(request)
        self.metrics.queue_depth.set(len(self._pending))
        self._wakeup.set()
        return await request.future

    # The batching loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._slots.acquire()
            batch = await self._next_batch(loop)
            if batch is None:
                self._slots.release()
                return
            task = loop.create_task(self._infer(batch, loop))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _next_batch(self, loop: asyncio.AbstractEventLoop) -> list[_Request] | None:
        """The next batch (oldest first), waiting for more requests until it is full or the oldest is due;
        None once closed and drained."""
        while True:
            self._prune(loop.time())
            if not self._pending:
                if self._closed:
                    return None
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            due = self._pending[0].enqueued + self.config.max_delay_ms / 1000
            while not self._closed and not self._full() and (remaining := due - loop.time()) > 0:
                self._wakeup.clear()
                try:
                    async with asyncio.timeout(remaining):
                        await self._wakeup.wait()
                except TimeoutError:
                    break
            self._prune(loop.time())
            if self._pending:  # else everything waiting was dropped meanwhile: start over
                return self._take(loop.time())

    def _full(self) -> bool:
        """Whether the requests at the head of the queue make a batch that cannot grow."""
        crops = 0
        for taken, request in enumerate(self._pending):
            if taken and crops + len(request.crops) > self.config.max_batch:
                return True  # the next request does not fit
            crops += len(request.crops)
            if crops >= self.config.max_batch:
                return True
        return False

    def _take(self, now: float) -> list[_Request]:
        batch: list[_Request] = []
        crops = 0
        while self._pending:
            request = self._pending[0]
            if batch and crops + len(request.crops) > self.config.max_batch:
                break
            self._pending.popleft()
            batch.append(request)
            crops += len(request.crops)
            self.metrics.queue_delay.observe(now - request.enqueued)
        self.metrics.queue_depth.set(len(self._pending))
        return batch

    def _prune(self, now: float) -> None:
        """Drop the requests nobody waits for (cancelled) and those whose deadline has passed."""
        if not any(r.future.done() or (r.deadline is not None and r.deadline <= now) for r in self._pending):
            return
        kept: deque[_Request] = deque()
        for request in self._pending:
            if request.future.done():
                continue
            if request.deadline is not None and request.deadline <= now:
                waited = now - request.enqueued
                request.future.set_exception(
                    DeadlineExpiredError(f"deadline passed after {waited * 1000:.0f} ms in the queue; not classified")
                )
                continue
            kept.append(request)
        self._pending = kept
        self.metrics.queue_depth.set(len(kept))

    async def _infer(self, batch: list[_Request], loop: asyncio.AbstractEventLoop) -> None:
        try:
            crops = batch[0].crops if len(batch) == 1 else np.concatenate([r.crops for r in batch])
            self.metrics.batch_size.observe(len(crops))
            started = time.perf_counter()
            try:
                probabilities = await loop.run_in_executor(self._executor, self.engine.classify, crops)
                if probabilities.ndim != 2 or len(probabilities) != len(crops):
                    raise InferenceError(f"the model returned {probabilities.shape} for {len(crops)} crops")
            except Exception as error:
                log.exception("event=inference_failed crops=%d requests=%d", len(crops), len(batch))
                failure = error if isinstance(error, InferenceError) else InferenceError(f"inference failed: {error}")
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(failure)
                return
            finally:
                self.metrics.inference.observe(time.perf_counter() - started)
            start = 0
            for request in batch:
                end = start + len(request.crops)
                if not request.future.done():
                    request.future.set_result(probabilities[start:end])
                start = end
        finally:
            self._slots.release()
