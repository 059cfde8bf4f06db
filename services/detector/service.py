"""The detector service (``emostream serve detector``): ``replicas`` worker threads, each a consumer of group
``detector`` (see :mod:`emostream.detector.worker`), sharing one gRPC classifier channel.

Health (``/healthz`` on the metrics port) fails while Redis is unreachable or the classifier does not
answer SERVING (its standard gRPC health check, probed every few seconds and on every failed call).

Start-up warms every replica's detector up on a blank frame (:meth:`DetectorWorker.warm_up`) before the
endpoint opens and before anything is consumed: whoever waits for ``/healthz`` (``make up``, compose,
Kubernetes) sends the first frames to a warm detector, which does not pay ONNX Runtime's first-run costs.
"""

from __future__ import annotations

import logging
import threading
from http.server import ThreadingHTTPServer

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from emostream.classifier.client import CHANNEL_OPTIONS, GrpcEmotionClassifier
from emostream.components import build_stage
from emostream.core.health import Health, serve_http
from emostream.core.rpc import open_channel
from emostream.detector.metrics import DetectorMetrics
from emostream.detector.settings import DetectorSettings
from emostream.detector.worker import DetectorWorker, TimedClassifier
from emostream.protos.v1 import classifier_pb2
from emostream.transport.connection import REDIS_DOWN_ERRORS, connect

log = logging.getLogger(__name__)
CLASSIFIER_SERVICE = classifier_pb2.DESCRIPTOR.services_by_name["EmotionClassifier"].full_name
PROBE_INTERVAL_S = 3.0


class DetectorService:
    """Workers, the classifier client and probe, the metrics/health endpoint, and one stop event."""

    def __init__(self, settings: DetectorSettings, metrics: DetectorMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or DetectorMetrics()
        self.health = Health()
        self.stop_event = threading.Event()
        self.http: ThreadingHTTPServer | None = None
        self.client = connect(settings.redis_url, settings.redis_password_file, password=settings.password(),
                              name=f"emostream-detector-{settings.consumer_name}",
                              socket_timeout=settings.block_ms / 1000 + 10)  # fmt: skip
        self.classifier = GrpcEmotionClassifier(
            settings.classifier_target, settings.classify_timeout_s, token=settings.token(),
            tls_ca=settings.classifier_tls_ca,
        )  # fmt: skip
        target, tls_ca = settings.classifier_target, settings.classifier_tls_ca
        self._probe_channel = open_channel(target, tls_ca, False, CHANNEL_OPTIONS)
        self._probe = health_pb2_grpc.HealthStub(self._probe_channel)
        self.workers: list[DetectorWorker] = []
        self.threads: list[threading.Thread] = []

    def _consumer(self, index: int) -> str:
        name = self.settings.consumer_name
        return name if self.settings.replicas == 1 else f"{name}-{index}"

    def start(self) -> None:
        """Build and warm up the workers, then open ``/healthz`` + ``/metrics`` and start consuming."""
        settings = self.settings
        self.health.set("classifier", False, "not checked yet")
        self.health.set("redis", False, "not checked yet")
        classifier = TimedClassifier(self.classifier, self.metrics)
        for index in range(settings.replicas):
            stage = build_stage(settings.pipeline(), classifier=classifier)
            worker = DetectorWorker(self.client, self._consumer(index), stage, settings, self.metrics, self.health,
                                    self.stop_event)  # fmt: skip
            thread = threading.Thread(target=worker.run, name=f"detector-{index}", daemon=True)
            self.workers.append(worker)
            self.threads.append(thread)
        for worker in self.workers:
            worker.warm_up()
        if settings.metrics_port is not None:
            self.http = serve_http(settings.metrics_port, settings.host, self.metrics.registry, self.health)
        self.probe()
        for thread in self.threads:
            thread.start()
        port = self.http.server_port if self.http is not None else None
        log.info("event=detector_started consumer=%s replicas=%d classifier=%s metrics_port=%s",
                 settings.consumer_name, settings.replicas, settings.classifier_target, port)  # fmt: skip

    def probe(self) -> None:
        """Ask Redis and the classifier whether they are there; record it in the health checks."""
        try:
            self.health.set("redis", bool(self.client.ping()))
        except REDIS_DOWN_ERRORS as error:
            self.health.set("redis", False, str(error))
        try:
            response = self._probe.Check(health_pb2.HealthCheckRequest(service=CLASSIFIER_SERVICE), timeout=1.0)
            serving = response.status == health_pb2.HealthCheckResponse.SERVING
            self.health.set("classifier", serving, health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))
        except grpc.RpcError as error:
            self.health.set("classifier", False, error.code().name)

    def run(self) -> None:
        """Until ``stop_event`` is set (or every worker has died)."""
        while not self.stop_event.wait(PROBE_INTERVAL_S):
            self.probe()
            if not any(thread.is_alive() for thread in self.threads):
                log.error("event=workers_died")
                break
        self.close()

    def close(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            if thread.is_alive():
                thread.join(timeout=self.settings.block_ms / 1000 + 15)
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        self.classifier.close()
        self._probe_channel.close()
        self.client.close()
        log.info("event=detector_stopped processed=%d skipped=%d", sum(worker.processed for worker in self.workers),
                 sum(worker.skipped for worker in self.workers))  # fmt: skip
