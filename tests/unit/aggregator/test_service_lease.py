"""Camera leases on a fake Redis: one owner at a time, renewal and release only by the owner, takeover after
expiry."""

from __future__ import annotations

import asyncio

from fakeredis import FakeAsyncRedis

from emostream.aggregator.lease import CameraLease, lease_key


def test_one_owner_at_a_time_and_takeover_after_expiry() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        a = CameraLease(redis, "door", "agg-a", ttl_ms=10_000)
        b = CameraLease(redis, "door", "agg-b", ttl_ms=10_000)
        assert await a.acquire()
        assert await a.acquire()  # already ours: renewed
        assert not await b.acquire()
        assert not await b.renew()
        await b.release()  # not b's: nothing happens
        assert await a.holder() == "agg-a"
        assert await a.renew()
        assert 0 < await redis.pttl(lease_key("door")) <= 10_000

        await redis.delete(lease_key("door"))  # a died and its lease expired
        assert await b.acquire()
        assert not await a.renew()  # a, back from a long pause, learns it lost the camera
        await b.release()
        assert await b.holder() is None
        assert await a.acquire()

    asyncio.run(scenario())


def test_other_cameras_are_independent() -> None:
    async def scenario() -> None:
        redis = FakeAsyncRedis()
        assert await CameraLease(redis, "door", "agg-a", 5_000).acquire()
        assert await CameraLease(redis, "gate", "agg-b", 5_000).acquire()

    asyncio.run(scenario())
