"""The aggregator service (``emostream serve aggregator``): detections streams in; tracks, timelines and events
out, in Redis; ``TimelineService`` over gRPC with standard health checking and reflection, an optional bearer
token and TLS; Prometheus ``/metrics``.

Every camera is aggregated by exactly one replica at a time (``lease.CameraLease``); replicas look for new
cameras, and for cameras whose owner died, every ``discover_interval_s``. Health is SERVING while Redis
answers, NOT_SERVING when it does not and from the start of shutdown.

    async def main() -> None:
        service = AggregatorService(AggregatorSettings(port=0, metrics_port=None))
        await service.start()
        ...
        await service.stop(grace=5)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health, health_pb2
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from emostream.aggregator.lease import CameraLease
from emostream.aggregator.metrics import AggregatorMetrics
from emostream.aggregator.settings import AggregatorSettings
from emostream.aggregator.store import TimelineStore
from emostream.aggregator.timeline_api import TimelineServicer
from emostream.aggregator.worker import CameraWorker, LeaseLost
from emostream.core.grpc_server import ServeError as ServeError  # raised by start(), importable from here
from emostream.core.grpc_server import (
    add_health_and_reflection,
    create_server,
    start_listening,
    start_metrics,
    stop_metrics,
    stop_on_signals,
)
from emostream.core.redact import redact_url
from emostream.protos.v1 import timeline_pb2, timeline_pb2_grpc
from emostream.transport.connection import resolve_password
from emostream.transport.keys import (
    AGGREGATOR_GROUP,
    CAMERAS_KEY,
    DETECTOR_GROUP,
    PREFIX,
    camera_from_stream,
    detections_stream,
    frames_stream,
)

log = logging.getLogger(__name__)
TIMELINE_SERVICE = timeline_pb2.DESCRIPTOR.services_by_name["TimelineService"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def connect_async(settings: AggregatorSettings) -> Redis:
    """An asyncio Redis client for the settings' URL; the password from the settings, a file or
    ``$EMOSTREAM_REDIS_PASSWORD``. redis-py reconnects by itself; commands retry a few times."""
    password = settings.redis_secret() or resolve_password()
    timeout = max(10.0, settings.block_ms / 1000 * 4)
    return Redis.from_url(
        settings.redis_url, password=password, socket_timeout=timeout, socket_connect_timeout=5.0,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError], health_check_interval=15,
        client_name=f"aggregator:{settings.consumer}",
    )  # fmt: skip


class AggregatorService:
    """Lifecycle: :meth:`start` (listening; cameras taken as they appear), :meth:`stop` (NOT_SERVING, workers
    finish their batch and release their leases, in-flight calls get the grace period)."""

    def __init__(
        self, settings: AggregatorSettings, registry: CollectorRegistry | None = None, redis: Redis | None = None
    ) -> None:
        self.settings = settings
        self.metrics = AggregatorMetrics(registry)
        self.redis = redis or connect_async(settings)
        self.store = TimelineStore(self.redis, settings.retention_seconds, settings.events_maxlen)
        self._health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._http: WSGIServer | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.workers: dict[str, asyncio.Task[None]] = {}
        self._known: set[str] = set()
        self._serving: bool | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None

    async def start(self) -> None:
        settings = self.settings
        server, auth = create_server(settings, [("grpc.max_send_message_length", settings.max_message_bytes)])
        servicer = TimelineServicer(self.redis, self.store, settings.page_size, settings.max_page_size)
        timeline_pb2_grpc.add_TimelineServiceServicer_to_server(servicer, server)
        add_health_and_reflection(server, self._health, (TIMELINE_SERVICE,), settings.reflection)
        await self._set_health(False)
        self.port = await start_listening(server, settings)
        self._server = server
        self._http = start_metrics(settings, self.metrics.registry)
        self.metrics_port = self._http.server_port if self._http is not None else None
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._supervise(), name="aggregator-supervise"),
            loop.create_task(self._watch_lag(), name="aggregator-lag"),
        ]
        log.info("event=listening address=%s:%s tls=%s auth=%s metrics_port=%s redis=%s consumer=%s",
                 settings.host, self.port, settings.tls_cert is not None, auth, self.metrics_port,
                 redact_url(settings.redis_url), settings.consumer)  # fmt: skip

    async def stop(self, grace: float | None = None) -> None:
        grace = self.settings.grace_seconds if grace is None else grace
        self._stop.set()
        await self._health.enter_graceful_shutdown()
        workers = list(self.workers.values())
        if workers:
            await asyncio.wait(workers, timeout=max(grace, 1.0))
        for task in [*self._tasks, *workers]:
            task.cancel()
        await asyncio.gather(*self._tasks, *workers, return_exceptions=True)
        if self._server is not None:
            await self._server.stop(grace)
        stop_metrics(self._http)
        self._http = None
        await self.redis.aclose()
        log.info("event=stopped port=%s", self.port)

    async def _set_health(self, serving: bool) -> None:
        if serving is self._serving:
            return
        self._serving = serving
        for name in ("", TIMELINE_SERVICE):
            await self._health.set(name, SERVING if serving else NOT_SERVING)
        log.info("event=health status=%s", "SERVING" if serving else "NOT_SERVING")

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopping; True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    # --- cameras ------------------------------------------------------------------------------------------------

    async def discover(self) -> set[str]:
        """The cameras to aggregate: the configured ones, else every camera with a detections stream."""
        if self.settings.cameras:
            return set(self.settings.cameras)
        names = {n.decode() if isinstance(n, bytes) else str(n) for n in await self.redis.smembers(CAMERAS_KEY)}
        async for key in self.redis.scan_iter(match=f"{PREFIX}:detections:*", _type="stream"):
            with contextlib.suppress(ValueError):
                names.add(camera_from_stream(key.decode() if isinstance(key, bytes) else key))
        return names

    async def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                await self.redis.ping()
                await self._set_health(True)
                self._known = await self.discover()
                for camera in sorted(self._known - set(self.workers)):
                    lease = CameraLease(self.redis, camera, self.settings.consumer, self.settings.lease_ms)
                    if await lease.acquire():
                        task = asyncio.get_running_loop().create_task(self._run_worker(lease), name=f"camera-{camera}")
                        self.workers[camera] = task
            except RedisError as error:
                await self._set_health(False)
                log.warning("event=redis_unavailable error=%r", str(error))
            if await self._pause(self.settings.discover_interval_s):
                return

    async def _run_worker(self, lease: CameraLease) -> None:
        camera = lease.camera
        worker = CameraWorker(self.redis, self.store, self.settings, self.metrics, lease)
        try:
            await worker.run(self._stop)
            await lease.release()
        except LeaseLost as error:
            log.warning("event=lease_lost camera=%s detail=%r", camera, str(error))
        except RedisError as error:
            log.warning("event=worker_failed camera=%s error=%r", camera, str(error))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event=worker_crashed camera=%s", camera)
            with contextlib.suppress(RedisError):
                await lease.release()
        finally:
            self.workers.pop(camera, None)
            self.metrics.active_tracks.labels(camera).set(0)

    # --- stream lag ---------------------------------------------------------------------------------------------

    async def _watch_lag(self) -> None:
        while not self._stop.is_set():
            for camera in sorted(self._known):
                for stream, group in ((frames_stream(camera), DETECTOR_GROUP),
                                      (detections_stream(camera), AGGREGATOR_GROUP)):  # fmt: skip
                    lag = await self._lag(stream, group)
                    if lag is not None:
                        self.metrics.stream_lag.labels(camera, group).set(lag)
            if await self._pause(self.settings.lag_interval_s):
                return

    async def _lag(self, stream: str, group: str) -> int | None:
        """Entries of ``stream`` not yet delivered to ``group`` plus those delivered but not acknowledged."""
        try:
            groups = await self.redis.xinfo_groups(stream)
        except ResponseError:  # no such stream (yet)
            return None
        except RedisError as error:
            log.debug("event=lag_unavailable stream=%s error=%r", stream, str(error))
            return None
        for info in groups:
            name = info.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == group:
                return int(info.get("lag") or 0) + int(info.get("pending") or 0)
        return None


async def serve(settings: AggregatorSettings) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully (``grace_seconds``)."""
    stop = stop_on_signals()
    service = AggregatorService(settings)
    await service.start()
    try:
        await stop.wait()
        log.info("event=shutdown grace_s=%s", settings.grace_seconds)
    finally:
        await service.stop()
