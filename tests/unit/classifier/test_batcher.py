"""The dynamic batcher with a fake engine: when batches go, what is refused or dropped, and its metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from emostream.classifier.batcher import BatcherConfig, DynamicBatcher
from emostream.classifier.errors import DeadlineExpiredError, InferenceError, NotServingError, QueueFullError
from emostream.classifier.metrics import ClassifierMetrics
from tests.unit.classifier.conftest import FakeEngine, crops_of

T = TypeVar("T")
LONG = 10_000.0  # ms: a delay no test waits for


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(10):
            return await scenario()

    return asyncio.run(bounded())


async def wait_started(engine: FakeEngine) -> None:
    assert await asyncio.to_thread(engine.started.wait, 5), "the engine was never called"


def labels(probabilities: np.ndarray) -> list[int]:
    return [int(i) for i in probabilities.argmax(axis=1)]


def test_batch_goes_when_full_without_waiting_for_the_delay(engine: FakeEngine) -> None:
    async def scenario() -> list[np.ndarray]:
        async with DynamicBatcher(engine, BatcherConfig(max_batch=4, max_delay_ms=LONG)) as batcher:
            return await asyncio.gather(*(batcher.classify(crops_of(v)) for v in (0, 1, 2, 3)))

    results = run(scenario)
    assert engine.calls == [4]
    assert [labels(r) for r in results] == [[0], [1], [2], [3]]  # each caller gets its own row


def test_batch_goes_when_the_oldest_has_waited_max_delay(engine: FakeEngine) -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        async with DynamicBatcher(engine, BatcherConfig(max_batch=64, max_delay_ms=50)) as batcher:
            started = loop.time()
            results = await asyncio.gather(batcher.classify(crops_of(1, 2)), batcher.classify(crops_of(3)))
            assert [labels(r) for r in results] == [[1, 2], [3]]
            return loop.time() - started

    elapsed = run(scenario)
    assert engine.calls == [3]
    assert 0.045 <= elapsed < 2.0


def test_requests_are_never_split_and_a_large_one_runs_alone(engine: FakeEngine) -> None:
    async def scenario() -> list[np.ndarray]:
        async with DynamicBatcher(engine, BatcherConfig(max_batch=4, max_delay_ms=LONG)) as batcher:
            return await asyncio.gather(
                batcher.classify(crops_of(*range(6))),
                batcher.classify(crops_of(1, 2)),
                batcher.classify(crops_of(3, 4)),
            )

    results = run(scenario)
    assert engine.calls == [6, 4]
    assert labels(results[0]) == [0, 1, 2, 3, 4, 5]


def test_full_queue_refuses_and_the_loop_stays_free_during_inference(gated_engine: FakeEngine) -> None:
    async def scenario() -> None:
        config = BatcherConfig(max_batch=1, max_delay_ms=0, max_queue=2)
        async with DynamicBatcher(gated_engine, config) as batcher:
            first = asyncio.create_task(batcher.classify(crops_of(1)))
            await wait_started(gated_engine)  # in the model, held at the gate: the loop still runs this test
            queued = [asyncio.create_task(batcher.classify(crops_of(v))) for v in (2, 3)]
            await asyncio.sleep(0)
            assert batcher.depth == 2
            with pytest.raises(QueueFullError, match="queue is full"):
                await batcher.classify(crops_of(4))
            gated_engine.release.set()
            assert [labels(r) for r in await asyncio.gather(first, *queued)] == [[1], [2], [3]]

    run(scenario)
    assert gated_engine.calls == [1, 1, 1]


def test_expired_and_cancelled_requests_are_dropped_before_inference(gated_engine: FakeEngine) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with DynamicBatcher(gated_engine, BatcherConfig(max_batch=8, max_delay_ms=0)) as batcher:
            first = asyncio.create_task(batcher.classify(crops_of(1)))
            await wait_started(gated_engine)
            deadline = loop.time() + 0.02
            expiring = asyncio.create_task(batcher.classify(crops_of(2, 2), time_left=0.02))
            cancelled = asyncio.create_task(batcher.classify(crops_of(3, 3, 3)))
            kept = asyncio.create_task(batcher.classify(crops_of(4), time_left=LONG))
            await asyncio.sleep(0)
            cancelled.cancel()
            await asyncio.sleep(deadline - loop.time() + 0.005)  # the condition is time itself: past the deadline
            gated_engine.release.set()
            with pytest.raises(DeadlineExpiredError, match="deadline passed"):
                await expiring
            assert labels(await kept) == [4]
            await first
            with pytest.raises(DeadlineExpiredError):
                await batcher.classify(crops_of(5), time_left=0)

    run(scenario)
    assert gated_engine.calls == [1, 1]  # neither the expired nor the cancelled crops reached the model


def test_default_batching_is_opportunistic(gated_engine: FakeEngine) -> None:
    """A lone request goes to the idle model at once (the gate shows the call began before any other request
    existed); the requests that queue while the model runs become the next batch together."""

    async def scenario() -> list[list[int]]:
        async with DynamicBatcher(gated_engine, BatcherConfig()) as b:
            first = asyncio.create_task(b.classify(crops_of(1)))
            await wait_started(gated_engine)
            assert gated_engine.calls == [1]
            queued = [asyncio.create_task(b.classify(crops_of(v))) for v in (2, 3, 4)]
            await asyncio.sleep(0)
            gated_engine.release.set()
            return [labels(await first), *[labels(await task) for task in queued]]

    assert BatcherConfig().max_delay_ms == 0
    assert run(scenario) == [[1], [2], [3], [4]]
    assert gated_engine.calls == [1, 3]


def test_default_batching_never_holds_a_lone_request(engine: FakeEngine) -> None:
    """The same lone request under the default and under a configured wait: only the wait holds it back."""

    async def started_within(config: BatcherConfig, seconds: float) -> bool:
        async with DynamicBatcher(engine, config) as batcher:
            engine.started.clear()
            task = asyncio.create_task(batcher.classify(crops_of(1)))
            began = await asyncio.to_thread(engine.started.wait, seconds)
            task.cancel()
            return began

    assert run(lambda: started_within(BatcherConfig(), 2.0))
    assert not run(lambda: started_within(BatcherConfig(max_delay_ms=LONG), 0.3))


def test_batching_off_sends_every_request_alone(engine: FakeEngine) -> None:
    async def scenario() -> None:
        async with DynamicBatcher(engine, BatcherConfig.unbatched()) as batcher:
            await asyncio.gather(*(batcher.classify(crops_of(v)) for v in range(5)))

    run(scenario)
    assert engine.calls == [1, 1, 1, 1, 1]


def test_metrics_count_batches_delays_and_depth(engine: FakeEngine) -> None:
    registry = CollectorRegistry()

    async def scenario() -> None:
        config = BatcherConfig(max_batch=3, max_delay_ms=LONG)
        async with DynamicBatcher(engine, config, ClassifierMetrics(registry)) as batcher:
            await asyncio.gather(*(batcher.classify(crops_of(v)) for v in range(6)))

    run(scenario)
    value = registry.get_sample_value
    assert value("emostream_classifier_batch_size_count") == 2
    assert value("emostream_classifier_batch_size_sum") == 6
    assert value("emostream_classifier_queue_delay_seconds_count") == 6
    assert value("emostream_classifier_inference_seconds_count") == 2
    assert value("emostream_classifier_queue_depth") == 0


def test_engine_failure_reaches_every_request_of_the_batch() -> None:
    engine = FakeEngine(fail=True)

    async def scenario() -> list[BaseException | np.ndarray]:
        async with DynamicBatcher(engine, BatcherConfig(max_batch=2, max_delay_ms=LONG)) as batcher:
            return await asyncio.gather(batcher.classify(crops_of(1)), batcher.classify(crops_of(2)),
                                        return_exceptions=True)  # fmt: skip

    outcomes = run(scenario)
    assert all(isinstance(o, InferenceError) and "boom" in str(o) for o in outcomes)


def test_closed_batcher_refuses_and_empty_requests_are_answered_at_once(engine: FakeEngine) -> None:
    async def scenario() -> None:
        batcher = DynamicBatcher(engine)
        with pytest.raises(NotServingError):
            await batcher.classify(crops_of(1))  # not started
        async with batcher:
            assert (await batcher.classify(crops_of())).shape == (0, 7)
        with pytest.raises(NotServingError):
            await batcher.classify(crops_of(1))

    run(scenario)
    assert engine.calls == []


@pytest.mark.parametrize(
    "config",
    [{"max_batch": 0}, {"max_queue": 0}, {"workers": 0}, {"max_delay_ms": -1}],
)
def test_config_is_checked(config: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BatcherConfig(**config)
