"""Camera ownership: each camera is aggregated by exactly one consumer at a time.

The owner holds a Redis key (``timeline_key(camera, "lease")``) set with ``SET NX PX`` and renews it well
before it expires. A dead owner's lease expires and another consumer takes the camera over. Renewal and
release check the value first (WATCH/MULTI), so a consumer never extends or deletes someone else's lease, and
the aggregator commits its state in a transaction guarded by the same check (see ``store.TimelineStore``).
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import WatchError

from emostream.transport.keys import timeline_key

log = logging.getLogger(__name__)


def lease_key(camera: str) -> str:
    return timeline_key(camera, "lease")


class CameraLease:
    """The lease of one camera for ``owner``.

    Example (inside a coroutine, with a ``redis.asyncio.Redis``)::

        lease = CameraLease(redis, "cam1", "aggregator-1", ttl_ms=10_000)
        if await lease.acquire():
            ...  # own the camera; call renew() every few seconds; False: ownership lost, stop at once
            await lease.release()
    """

    def __init__(self, redis: Redis, camera: str, owner: str, ttl_ms: int) -> None:
        self.redis, self.camera, self.owner, self.ttl_ms = redis, camera, owner, ttl_ms
        self.key = lease_key(camera)

    async def holder(self) -> str | None:
        value = await self.redis.get(self.key)
        return None if value is None else value.decode() if isinstance(value, bytes) else str(value)

    async def acquire(self) -> bool:
        """Take the lease if free (or already ours, then renew it)."""
        if await self.redis.set(self.key, self.owner, nx=True, px=self.ttl_ms):
            log.info("event=lease_acquired camera=%s owner=%s", self.camera, self.owner)
            return True
        return await self.renew()

    async def renew(self) -> bool:
        """Extend the lease if it is still ours; False if it expired and someone else holds it (or nobody)."""
        return await self._if_ours(delete=False)

    async def release(self) -> None:
        """Give the lease up (if still ours), so another consumer need not wait for it to expire."""
        if await self._if_ours(delete=True):
            log.info("event=lease_released camera=%s owner=%s", self.camera, self.owner)

    async def _if_ours(self, delete: bool) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(3):
                try:
                    await pipe.watch(self.key)
                    value = await pipe.get(self.key)
                    if value is None or (value.decode() if isinstance(value, bytes) else str(value)) != self.owner:
                        await pipe.reset()
                        return False
                    pipe.multi()
                    if delete:
                        pipe.delete(self.key)
                    else:
                        pipe.pexpire(self.key, self.ttl_ms)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        return False
