"""The classifier service: ``EmotionClassifier`` (crops in, probabilities out, dynamically batched) and
``FaceAnalyzer`` (photo in, faces with emotions out) on one ``grpc.aio`` server, with standard health
checking and reflection, a bearer-token check, optional TLS and Prometheus ``/metrics``.

Health is NOT_SERVING until the model is loaded and warmed up, and again from the start of shutdown.

    async def main() -> None:
        server = ClassifierServer(ClassifierSettings(port=0, metrics_port=None))
        await server.start()
        await server.wait_ready()
        ...
        await server.stop(grace=5)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from wsgiref.simple_server import WSGIServer

import grpc
import numpy as np
from grpc_health.v1 import health, health_pb2
from prometheus_client import CollectorRegistry

from emostream.classifier.batcher import DynamicBatcher
from emostream.classifier.engine import EmotionClassifier, ModelInfo, OnnxEmotionClassifier
from emostream.classifier.errors import MAPPED_ERRORS, NotServingError, grpc_status
from emostream.classifier.metrics import ClassifierMetrics
from emostream.classifier.settings import ClassifierSettings
from emostream.classifier.wire import crops_from_request, model_info_response, probabilities_response
from emostream.components import PipelineSettings, build_stage
from emostream.core.grpc_server import (
    ServeError,
    add_health_and_reflection,
    create_server,
    start_listening,
    start_metrics,
    stop_metrics,
    stop_on_signals,
)
from emostream.core.images import decode_image
from emostream.core.protoconv import face_to_proto
from emostream.core.types import ClassifiedFace
from emostream.detector.stage import DetectorStage
from emostream.protos.v1 import analyzer_pb2, analyzer_pb2_grpc, classifier_pb2, classifier_pb2_grpc

log = logging.getLogger(__name__)
T = TypeVar("T")
EngineFactory = Callable[[], EmotionClassifier]

CLASSIFIER_SERVICE = classifier_pb2.DESCRIPTOR.services_by_name["EmotionClassifier"].full_name
ANALYZER_SERVICE = analyzer_pb2.DESCRIPTOR.services_by_name["FaceAnalyzer"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# A call cancelled this close to its deadline has expired: the client's timer ran out and its cancel reached us
# before our copy of the deadline (which starts when the request arrives, so it lags by the request's transit).
DEADLINE_SLACK_S = 0.1
_LOAD_SHEDDING = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED})  # debug logs


class BatchedClassifier:
    """``EmotionClassifier`` over the batcher, for code in worker threads (the analyzer's detector stage):
    its crops are batched with everyone else's."""

    def __init__(self, batcher: DynamicBatcher, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        self._batcher, self._loop, self._deadline = batcher, loop, deadline

    @property
    def info(self) -> ModelInfo:
        return self._batcher.engine.info

    def classify(self, crops: np.ndarray) -> np.ndarray:
        time_left = None if self._deadline is None else self._deadline - self._loop.time()
        return asyncio.run_coroutine_threadsafe(self._batcher.classify(crops, time_left), self._loop).result()


class _Runtime:
    """What the servicers share: the batcher (once the model is loaded) and the analyzer's detector stage."""

    def __init__(self, settings: ClassifierSettings, metrics: ClassifierMetrics, engine_factory: EngineFactory):
        self.settings, self.metrics, self._engine_factory = settings, metrics, engine_factory
        self.batcher: DynamicBatcher | None = None
        self.stage: DetectorStage | None = None
        self.analyzer_executor = ThreadPoolExecutor(1, thread_name_prefix="analyzer")

    async def load(self) -> None:
        """Load and warm up the model (and the analyzer's detector), off the event loop."""
        loop = asyncio.get_running_loop()
        engine = await loop.run_in_executor(None, self._engine_factory)
        batcher = DynamicBatcher(engine, self.settings.batcher_config(), self.metrics)
        await batcher.start()
        for count in sorted({1, min(self.settings.max_batch, self.settings.max_crops_per_request)}):
            await batcher.classify(np.zeros((count, 48, 48), np.uint8))
        if self.settings.analyzer:
            pipeline = PipelineSettings(
                model=self.settings.model, detector=self.settings.detector, threads=self.settings.detector_threads
            )
            stage = await loop.run_in_executor(self.analyzer_executor, build_stage, pipeline, engine)
            blank = np.zeros((240, 320, 3), np.uint8)
            await loop.run_in_executor(self.analyzer_executor, stage.faces, blank, True)
            self.stage = stage
        self.batcher = batcher

    def ready(self) -> DynamicBatcher:
        if self.batcher is None:
            raise NotServingError("the model is still loading; retry shortly")
        return self.batcher

    async def close(self) -> None:
        if self.batcher is not None:
            await self.batcher.close()
        self.analyzer_executor.shutdown(wait=True)


async def _answer(
    method: str, context: grpc.aio.ServicerContext, metrics: ClassifierMetrics, handle: Callable[[], Awaitable[T]]
) -> T:
    """Run ``handle``; count the outcome by status code; turn our errors into their one gRPC status."""
    try:
        response = await handle()
    except MAPPED_ERRORS as error:
        code = grpc_status(error)
        metrics.requests.labels(method, code.name).inc()
        level = logging.DEBUG if code in _LOAD_SHEDDING else logging.INFO
        log.log(level, "event=refused method=%s code=%s reason=%r", method, code.name, str(error))
        await context.abort(code, str(error))
        raise  # abort raises; this is for type checkers
    except asyncio.CancelledError:
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= DEADLINE_SLACK_S
        metrics.requests.labels(method, "DEADLINE_EXCEEDED" if expired else "CANCELLED").inc()
        raise
    except Exception as error:
        metrics.requests.labels(method, grpc.StatusCode.INTERNAL.name).inc()
        log.exception("event=internal_error method=%s", method)
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {error.__class__.__name__}")
        raise
    metrics.requests.labels(method, grpc.StatusCode.OK.name).inc()
    return response


class EmotionClassifierServicer(classifier_pb2_grpc.EmotionClassifierServicer):
    def __init__(self, runtime: _Runtime) -> None:
        self._runtime = runtime

    async def Classify(
        self, request: classifier_pb2.ClassifyRequest, context: grpc.aio.ServicerContext
    ) -> classifier_pb2.ClassifyResponse:
        async def handle() -> classifier_pb2.ClassifyResponse:
            batcher = self._runtime.ready()
            crops = crops_from_request(request, self._runtime.settings.max_crops_per_request)
            probabilities = await batcher.classify(crops, time_left=context.time_remaining())
            return probabilities_response(probabilities, batcher.engine.info.version)

        return await _answer("Classify", context, self._runtime.metrics, handle)

    async def ModelInfo(
        self, request: classifier_pb2.ModelInfoRequest, context: grpc.aio.ServicerContext
    ) -> classifier_pb2.ModelInfoResponse:
        async def handle() -> classifier_pb2.ModelInfoResponse:
            settings = self._runtime.settings
            info = self._runtime.ready().engine.info
            return model_info_response(info, settings.max_batch, settings.max_crops_per_request)

        return await _answer("ModelInfo", context, self._runtime.metrics, handle)


def _analyze(stage: DetectorStage, data: bytes, max_pixels: int) -> tuple[np.ndarray, tuple[ClassifiedFace, ...]]:
    image = decode_image(data, "image", max_pixels)
    return image, stage.classify(stage.faces(image, thorough=True))


class FaceAnalyzerServicer(analyzer_pb2_grpc.FaceAnalyzerServicer):
    def __init__(self, runtime: _Runtime) -> None:
        self._runtime = runtime

    async def Analyze(
        self, request: analyzer_pb2.AnalyzeRequest, context: grpc.aio.ServicerContext
    ) -> analyzer_pb2.AnalyzeResponse:
        async def handle() -> analyzer_pb2.AnalyzeResponse:
            runtime = self._runtime
            batcher = runtime.ready()
            if runtime.stage is None:
                raise NotServingError("the face analyzer is still loading; retry shortly")
            loop = asyncio.get_running_loop()
            remaining = context.time_remaining()
            deadline = None if remaining is None else loop.time() + remaining
            base = runtime.stage
            stage = DetectorStage(base.detector, BatchedClassifier(batcher, loop, deadline), base.aligner, base.config)
            image, faces = await loop.run_in_executor(
                runtime.analyzer_executor, _analyze, stage, request.image, runtime.settings.max_image_pixels
            )
            info = batcher.engine.info
            return analyzer_pb2.AnalyzeResponse(
                faces=[face_to_proto(face, info.classes) for face in faces],
                width=image.shape[1],
                height=image.shape[0],
                classes=list(info.classes),
                model_version=info.version,
            )

        return await _answer("Analyze", context, self._runtime.metrics, handle)


class ClassifierServer:
    """The service's lifecycle: :meth:`start` (listening, NOT_SERVING), :meth:`wait_ready` (model loaded and
    warmed up, SERVING), :meth:`stop` (NOT_SERVING, in-flight calls finish within the grace period)."""

    def __init__(
        self,
        settings: ClassifierSettings,
        engine_factory: EngineFactory | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = ClassifierMetrics(registry)
        factory = engine_factory or (
            lambda: OnnxEmotionClassifier(settings.model, settings.providers, intra_op_threads=settings.threads)
        )
        self._runtime = _Runtime(settings, self.metrics, factory)
        self._health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._load: asyncio.Task[None] | None = None
        self._http: WSGIServer | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None

    @property
    def services(self) -> tuple[str, ...]:
        return (CLASSIFIER_SERVICE, ANALYZER_SERVICE) if self.settings.analyzer else (CLASSIFIER_SERVICE,)

    async def start(self) -> None:
        settings = self.settings
        server, auth = create_server(settings, [
            ("grpc.max_receive_message_length", settings.max_message_bytes),
            ("grpc.max_send_message_length", settings.max_message_bytes),
        ])  # fmt: skip
        classifier_pb2_grpc.add_EmotionClassifierServicer_to_server(EmotionClassifierServicer(self._runtime), server)
        if settings.analyzer:
            analyzer_pb2_grpc.add_FaceAnalyzerServicer_to_server(FaceAnalyzerServicer(self._runtime), server)
        add_health_and_reflection(server, self._health, self.services, settings.reflection)
        for name in ("", *self.services):
            await self._health.set(name, NOT_SERVING)
        self.port = await start_listening(server, settings)
        self._server = server
        self._http = start_metrics(settings, self.metrics.registry)
        self.metrics_port = self._http.server_port if self._http is not None else None
        log.info("event=listening address=%s:%s tls=%s auth=%s metrics_port=%s",
                 settings.host, self.port, settings.tls_cert is not None, auth, self.metrics_port)  # fmt: skip
        self._load = asyncio.get_running_loop().create_task(self._load_and_serve(), name="classifier-load")

    async def _load_and_serve(self) -> None:
        try:
            await self._runtime.load()
        except Exception as error:
            log.error("event=load_failed model=%s error=%r", self.settings.model, str(error))
            raise ServeError(f"{self.settings.model}: cannot serve this model ({error})") from error
        for name in ("", *self.services):
            await self._health.set(name, SERVING)
        info = self._runtime.ready().engine.info
        log.info("event=serving model=%s version=%s providers=%s", info.name, info.version, ",".join(info.providers))

    async def wait_ready(self) -> None:
        """Until the model is loaded and warmed up; raises :class:`ServeError` if it cannot be."""
        if self._load is None:
            raise ServeError("the server was not started")
        await asyncio.shield(self._load)

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, then stop taking calls and give in-flight ones ``grace`` seconds to finish."""
        grace = self.settings.grace_seconds if grace is None else grace
        await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(grace)
        if self._load is not None and not self._load.done():
            self._load.cancel()
        await self._runtime.close()
        stop_metrics(self._http)
        self._http = None
        log.info("event=stopped port=%s", self.port)


async def serve(settings: ClassifierSettings) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully (``grace_seconds``)."""
    stop = stop_on_signals()
    server = ClassifierServer(settings)
    await server.start()
    stopping = asyncio.ensure_future(stop.wait())
    ready = asyncio.ensure_future(server.wait_ready())
    try:
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and ready.exception() is not None:
            raise ready.exception()  # type: ignore[misc]
        await stopping
        log.info("event=shutdown grace_s=%s", settings.grace_seconds)
    finally:
        ready.cancel()
        stopping.cancel()
        await server.stop()
