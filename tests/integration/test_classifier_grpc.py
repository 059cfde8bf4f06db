"""The classifier service on loopback: real gRPC servers (in-process on a background event loop, and one
``emostream serve classifier`` subprocess), free ports chosen at run time, readiness by health checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import cv2
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from emostream.classifier.client import ClassifierRpcError, GrpcEmotionClassifier, RetryPolicy, analyze_photo
from emostream.classifier.engine import DEFAULT_MODEL, ModelInfo, OnnxEmotionClassifier
from emostream.classifier.server import ClassifierServer
from emostream.classifier.settings import ClassifierSettings
from emostream.classifier.wire import crops_request
from emostream.core.labels import EMOTIONS
from emostream.protos.v1 import classifier_pb2, classifier_pb2_grpc

T = TypeVar("T")
SERVING = health_pb2.HealthCheckResponse.SERVING
MAX_CROPS = 16
MAX_MESSAGE = 2 * 1024 * 1024
StartServer = Callable[..., ClassifierServer]


class LoopThread:
    """An asyncio loop in a daemon thread: the in-process servers live there, the tests call them blocking."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-grpc-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class GatedEngine:
    """The real engine behind a gate that a test opens; records the size of every call."""

    def __init__(self, engine: OnnxEmotionClassifier) -> None:
        self._engine = engine
        self.calls: list[int] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    @property
    def info(self) -> ModelInfo:
        return self._engine.info

    def classify(self, crops: np.ndarray) -> np.ndarray:
        self.calls.append(len(crops))
        self.started.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return self._engine.classify(crops)


def wait_serving(channel: grpc.Channel, service: str = "", timeout: float = 60) -> None:
    """Until the health service says SERVING (the condition every test waits on, never a blind sleep)."""
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1).status == SERVING:
                return
        except grpc.RpcError:
            pass
        assert time.monotonic() < deadline, f"{service or 'server'} not SERVING after {timeout} s"
        time.sleep(0.05)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def engine() -> OnnxEmotionClassifier:
    return OnnxEmotionClassifier(DEFAULT_MODEL, ("CPUExecutionProvider",), intra_op_threads=1)


@pytest.fixture(scope="module")
def start_server(loop_thread: LoopThread, engine: OnnxEmotionClassifier) -> Iterator[StartServer]:
    """Starts in-process servers (the shared engine unless one is given) and stops them all at the end."""
    started: list[ClassifierServer] = []

    def start(engine_: Any = None, wait: bool = True, **overrides: Any) -> ClassifierServer:
        options = {"port": 0, "metrics_port": None, "analyzer": False, "threads": 1, "grace_seconds": 1.0}
        settings = ClassifierSettings(**(options | overrides))
        server = ClassifierServer(settings, lambda: engine_ or engine, CollectorRegistry())
        loop_thread.run(server.start())
        started.append(server)
        if wait:
            with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                wait_serving(channel)
        return server

    yield start
    for server in started:
        loop_thread.run(server.stop(grace=0))


@pytest.fixture(scope="module")
def server(start_server: StartServer) -> ClassifierServer:
    """The real model, FaceAnalyzer on, /metrics on a free port, small limits to test them."""
    return start_server(analyzer=True, metrics_port=0, max_crops_per_request=MAX_CROPS,
                        max_message_bytes=MAX_MESSAGE, max_image_pixels=4_000_000)  # fmt: skip


@pytest.fixture(scope="module")
def target(server: ClassifierServer) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def stub(target: str) -> Iterator[classifier_pb2_grpc.EmotionClassifierStub]:
    with grpc.insecure_channel(target) as channel:
        yield classifier_pb2_grpc.EmotionClassifierStub(channel)


@pytest.fixture(scope="module")
def crops(fer_npz: Path) -> np.ndarray:
    with np.load(fer_npz) as data:
        return np.ascontiguousarray(data["x_val"][:5])


def test_classify_matches_the_in_process_engine(target: str, crops: np.ndarray, engine: OnnxEmotionClassifier) -> None:
    with GrpcEmotionClassifier(target, timeout=10) as client:
        probabilities = client.classify(crops)
        assert client.classify(crops[:0]).shape == (0, 7)
    assert probabilities.shape == (5, 7) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(probabilities, engine.classify(crops), atol=1e-5)


def test_model_info(target: str, stub: classifier_pb2_grpc.EmotionClassifierStub) -> None:
    with GrpcEmotionClassifier(target) as client:
        assert client.info.classes == EMOTIONS
        assert client.info.input_size == 48
    response = stub.ModelInfo(classifier_pb2.ModelInfoRequest(), timeout=5)
    assert (response.input.height, response.input.width, response.input.dtype) == (48, 48, "uint8")
    assert response.max_crops_per_request == MAX_CROPS and response.version


GOOD = crops_request(np.zeros((2, 48, 48), np.uint8))


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (classifier_pb2.ClassifyRequest(count=0, height=48, width=48), "INVALID_ARGUMENT", "count is 0"),
        (classifier_pb2.ClassifyRequest(crops=GOOD.crops[:-1], count=2, height=48, width=48),
         "INVALID_ARGUMENT", "4607 bytes"),
        (classifier_pb2.ClassifyRequest(crops=bytes(2 * 32 * 32), count=2, height=32, width=32),
         "INVALID_ARGUMENT", "must be 48x48"),
        (crops_request(np.zeros((MAX_CROPS + 1, 48, 48), np.uint8)), "RESOURCE_EXHAUSTED", "over the limit of 16"),
        (classifier_pb2.ClassifyRequest(crops=bytes(MAX_MESSAGE + 1), count=1, height=48, width=48),
         "RESOURCE_EXHAUSTED", "larger than max"),
    ],
    ids=["zero-count", "wrong-byte-count", "wrong-crop-size", "too-many-crops", "oversized-message"],
)  # fmt: skip
def test_bad_requests_get_their_status_and_a_message(
    stub: classifier_pb2_grpc.EmotionClassifierStub, request_: classifier_pb2.ClassifyRequest, code: str, message: str
) -> None:
    error = rpc_error(lambda: stub.Classify(request_, timeout=5))
    assert error.code().name == code
    assert message in error.details()


def test_analyze_a_real_photo(target: str, images: Path) -> None:
    photo = images / "pyfeat_single_face.jpg"
    response = analyze_photo(target, photo.read_bytes(), timeout=60)
    decoded = cv2.imread(str(photo))
    assert decoded is not None
    height, width = decoded.shape[:2]
    assert (response.width, response.height) == (width, height)
    assert list(response.classes) == list(EMOTIONS)
    assert len(response.faces) >= 1
    face = response.faces[0]
    assert 0 <= face.box.x1 < face.box.x2 <= width and 0 <= face.box.y1 < face.box.y2 <= height
    assert len(face.keypoints) >= 5
    if not face.quality:  # usable: classified (the label's accuracy is the model's business, not this test's)
        assert sum(face.probabilities) == pytest.approx(1.0, abs=1e-4)
        assert face.label in EMOTIONS and face.confidence == pytest.approx(max(face.probabilities))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (the server must refuse it before decoding)."""
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    body = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(64))) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.mark.parametrize(
    ("image", "message"),
    [(b"", "empty image"), (b"not an image at all", "not a readable image"),
     (_png_header(20_000, 20_000), "pixel decode limit")],
    ids=["empty", "garbage", "pixel-bomb"],
)  # fmt: skip
def test_analyze_refuses_bad_images(target: str, image: bytes, message: str) -> None:
    with pytest.raises(ClassifierRpcError) as caught:
        analyze_photo(target, image, timeout=10)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details


def test_health_reflection_and_metrics(target: str, server: ClassifierServer) -> None:
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "emostream.v1.EmotionClassifier", "emostream.v1.FaceAnalyzer"):
            assert health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status == SERVING
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert {"emostream.v1.EmotionClassifier", "emostream.v1.FaceAnalyzer", "grpc.health.v1.Health"} <= services
    with GrpcEmotionClassifier(target) as client:
        client.classify(np.zeros((3, 48, 48), np.uint8))
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'emostream_classifier_requests_total{code="OK",method="Classify"}' in text
    for name in ("batch_size_bucket", "queue_delay_seconds_count", "inference_seconds_count", "queue_depth"):
        assert f"emostream_classifier_{name}" in text


def test_full_queue_and_expired_deadline(start_server: StartServer, engine: OnnxEmotionClassifier) -> None:
    gated = GatedEngine(engine)
    server = start_server(gated, max_batch=1, max_delay_ms=0, max_queue=2)
    gated.calls.clear()
    gated.gate.clear()
    gated.started.clear()  # the warm-up set it: wait for the first request's own call below
    registry = server.metrics.registry
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = classifier_pb2_grpc.EmotionClassifierStub(channel)
            one = crops_request(np.zeros((1, 48, 48), np.uint8))
            first = stub.Classify.future(one, timeout=20)
            assert gated.started.wait(10)
            queued = [stub.Classify.future(one, timeout=20) for _ in range(2)]
            wait_for(lambda: registry.get_sample_value("emostream_classifier_queue_depth") == 2, "2 queued requests")
            error = rpc_error(lambda: stub.Classify(one, timeout=5))
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "queue is full" in error.details()

            gated.gate.set()
            for call in (first, *queued):
                assert call.result(timeout=10).count == 1
            assert gated.calls == [1, 1, 1]

            gated.gate.clear()
            gated.started.clear()
            blocker = stub.Classify.future(one, timeout=20)
            assert gated.started.wait(10)
            three = crops_request(np.zeros((3, 48, 48), np.uint8))
            error = rpc_error(lambda: stub.Classify(three, timeout=0.3))
            assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            gated.gate.set()
            assert blocker.result(timeout=10).count == 1
            expired = 'emostream_classifier_requests_total{code="DEADLINE_EXCEEDED"'
            wait_for(lambda: (registry.get_sample_value("emostream_classifier_requests_total",
                                                        {"method": "Classify", "code": "DEADLINE_EXCEEDED"}) or 0) >= 1,
                     expired)  # fmt: skip
            assert gated.calls == [1, 1, 1, 1]  # the 3 expired crops never reached the model
    finally:
        gated.gate.set()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"openssl cannot make a test certificate: {result.stderr[-300:]}")
    return cert, key


def test_tls_and_bearer_token(start_server: StartServer, tls_files: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = tls_files
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    server = start_server(wait=False, tls_cert=cert, tls_key=key, token_file=token_file)
    target = f"localhost:{server.port}"
    credentials = grpc.ssl_channel_credentials(cert.read_bytes())
    with grpc.secure_channel(target, credentials) as channel:
        wait_serving(channel)  # health needs no token
        stub = classifier_pb2_grpc.EmotionClassifierStub(channel)
        for metadata in ((), (("authorization", "Bearer wrong"),)):
            error = rpc_error(lambda m=metadata: stub.Classify(GOOD, timeout=5, metadata=m))  # type: ignore[misc]
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "bearer token" in error.details()
    with GrpcEmotionClassifier(target, token="s3cret", tls_ca=cert) as client:
        assert client.classify(np.zeros((2, 48, 48), np.uint8)).shape == (2, 7)
    with pytest.raises(grpc.RpcError) as plain:  # TLS only: a plaintext client cannot talk to it
        with grpc.insecure_channel(target) as channel:
            classifier_pb2_grpc.EmotionClassifierStub(channel).Classify(GOOD, timeout=2)
    assert plain.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert ClassifierSettings(port=0, token=SecretStr("x")).bearer_token() == "x"


def test_client_retries_while_the_server_restarts(
    start_server: StartServer, loop_thread: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="emostream.classifier.client")
    first = start_server()
    port = first.port
    retry = RetryPolicy(attempts=60, initial_backoff=0.05, max_backoff=0.2)
    crops = np.zeros((2, 48, 48), np.uint8)
    with GrpcEmotionClassifier(f"127.0.0.1:{port}", timeout=5, retry=retry) as client:
        assert client.classify(crops).shape == (2, 7)
        loop_thread.run(first.stop(grace=0))
        outcome: Future[np.ndarray] = Future()
        worker = threading.Thread(target=lambda: outcome.set_result(client.classify(crops)), daemon=True)
        worker.start()
        wait_for(lambda: any("event=retry" in r.getMessage() for r in caplog.records), "a retry on UNAVAILABLE")
        start_server(port=port, wait=False)
        assert outcome.result(timeout=20).shape == (2, 7)
        worker.join(5)


def test_serve_command_runs_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1", "EMOSTREAM_CLASSIFIER_THREADS": "1"}
    command = [sys.executable, "-m", "emostream.cli", "serve", "classifier", "--port", str(port),
               "--no-metrics", "--no-analyzer", "--max-batch", "8"]  # fmt: skip
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            wait_serving(channel, "emostream.v1.EmotionClassifier", timeout=60)
        with GrpcEmotionClassifier(f"127.0.0.1:{port}") as client:
            assert client.info.classes == EMOTIONS
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    log.seek(0)
    output = log.read()
    assert "event=serving" in output and "event=stopped" in output, output
