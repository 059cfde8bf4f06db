"""A real Prometheus scrapes the real services while a live camera plays: every query of the Grafana dashboard
and every alert rule's expression returns data.

The stack (``emostream.stack``: Redis, classifier, detector, aggregator, capture, Prometheus with
``deploy/prometheus/alerts.yml``) runs on free loopback ports, scraped every second. The camera is an HTTP MJPEG
server in this process that loops ``examples/astronaut.mp4`` with a few seconds of empty frames between loops,
so that tracks end and their durations are observed. One poison entry in the frames stream makes a dead letter.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from emostream.stack.config import StackConfig
from emostream.stack.redis_server import redis_executable
from emostream.stack.stack import Stack
from emostream.transport.keys import PAYLOAD_FIELD, frames_stream
from tests.integration.stack import client_of, wait_for
from tests.integration.test_deploy_config import alert_rules, dashboard_queries, substitute, without_threshold

REPO = Path(__file__).resolve().parents[2]
VIDEO = REPO / "examples" / "astronaut.mp4"
CAMERA = "lobby"
FPS = 10.0
EMPTY_SECONDS = 2.5  # longer than the tracker's max_age_s (1 s): every loop ends the tracks
DATA_TIMEOUT_S = 240.0  # from the stack being up: a few loops of the video on a busy 2-core machine
JOBS = ("classifier", "detector", "aggregator", "capture", "prometheus")


class MjpegCamera:
    """An HTTP MJPEG camera (``multipart/x-mixed-replace``) on loopback that loops a video at ``fps``."""

    def __init__(self, video: Path, fps: float, empty_seconds: float) -> None:
        capture, frames = cv2.VideoCapture(str(video)), []
        while True:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(cv2.imencode(".jpg", image)[1].tobytes())
        capture.release()
        assert frames, f"{video}: no frames"
        first = cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR)
        assert first is not None
        height, width = first.shape[:2]
        empty = cv2.imencode(".jpg", np.zeros((height, width, 3), np.uint8))[1].tobytes()
        self.sequence = frames + [empty] * round(empty_seconds * fps)
        self.fps, self.stop = fps, threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                start, index = time.monotonic(), 0
                try:
                    # paced by the clock, like a camera: frame i goes out at start + i / fps
                    while not camera.stop.wait(max(0.0, start + index / camera.fps - time.monotonic())):
                        jpeg = camera.sequence[index % len(camera.sequence)]
                        header = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                        self.wfile.write(header.encode() + jpeg + b"\r\n")
                        index += 1
                except (BrokenPipeError, ConnectionResetError):
                    return

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="mjpeg-camera", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/stream.mjpg"

    def __enter__(self) -> MjpegCamera:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


STARTED: dict[str, float] = {}  # when the module's stack was up: the data deadlines count from it


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    for tool, package in (("prometheus", "prometheus"), ("promtool", "prometheus")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian package: {package})")
    if redis_executable() is None:
        pytest.skip("no redis-server (Debian package: redis-server)")
    with MjpegCamera(VIDEO, FPS, EMPTY_SECONDS) as camera:
        config = StackConfig.on_free_ports(
            tmp_path_factory.mktemp("prometheus-stack"), camera_url=camera.url, camera=CAMERA, scrape_interval_s=1.0
        )
        stack = Stack(config)
        stack.up()
        try:
            poison(stack)  # a dead letter
            STARTED["up"] = time.monotonic()
            yield stack
        finally:
            stack.down()


def poison(stack: Stack) -> None:
    """An entry in the camera's frames stream that is not a Frame: the detector dead-letters it."""
    client = client_of(stack)
    try:
        client.xadd(frames_stream(CAMERA), {PAYLOAD_FIELD: b"\x00 not a Frame message"})
    finally:
        client.close()


def prometheus_url(stack: Stack) -> str:
    return f"http://{stack.address(stack.config.ports.prometheus)}"


def api(stack: Stack, path: str, **params: str) -> Any:
    url = f"{prometheus_url(stack)}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]


def query(stack: Stack, expr: str) -> list[dict[str, Any]]:
    data = api(stack, "query", query=expr)
    assert data["resultType"] == "vector", f"{expr}: {data['resultType']}"
    result: list[dict[str, Any]] = data["result"]
    return result


def finite(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [sample for sample in result if math.isfinite(float(sample["value"][1]))]


def time_left(stack: Stack) -> float:
    return max(30.0, DATA_TIMEOUT_S - (time.monotonic() - STARTED.get("up", time.monotonic())))


def wait_for_data(stack: Stack, expr: str, what: str) -> list[dict[str, Any]]:
    """The query's samples once at least one is a number (not NaN: a quantile of nothing yet)."""
    samples: list[dict[str, Any]] = []

    def some() -> bool:
        samples[:] = finite(query(stack, expr))
        return bool(samples)

    wait_for(some, time_left(stack), f"data from {what}: {expr}", 0.5)
    return samples


def test_prometheus_scrapes_every_service(stack: Stack) -> None:
    def all_up() -> bool:
        up = {(s["metric"]["job"], s["value"][1]) for s in query(stack, "up")}
        return {(job, "1") for job in JOBS} <= up

    wait_for(all_up, time_left(stack), f"every job up ({', '.join(JOBS)})", 0.5)


def test_health_probes_answer_for_the_running_services(stack: Stack) -> None:
    ports = stack.config.ports
    probes = [
        ["grpc", stack.address(ports.classifier), "--service", "emostream.v1.EmotionClassifier"],
        ["grpc", stack.address(ports.aggregator)],
        ["http", f"http://{stack.address(ports.capture_metrics)}/healthz"],
        ["http", f"http://{stack.address(ports.detector_metrics[0])}/healthz"],
    ]

    def probe(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "emostream.commands.health", *argv], capture_output=True,
                              text=True, timeout=30, check=False)  # fmt: skip

    def healthy(argv: list[str]) -> bool:
        return probe(argv).returncode == 0

    for argv in probes:
        wait_for(partial(healthy, argv), time_left(stack), f"health {' '.join(argv)}", 0.5)
    closed = probe(["grpc", stack.address(ports.prometheus), "--timeout", "2"])
    assert closed.returncode == 1, "a server without gRPC health is not healthy"


@pytest.mark.parametrize(("query_id", "expr"), dashboard_queries(), ids=[q for q, _ in dashboard_queries()])
def test_dashboard_query_returns_data(stack: Stack, query_id: str, expr: str) -> None:
    promql = substitute(expr, camera=CAMERA, rate_interval="2m", range_="10m")
    samples = wait_for_data(stack, promql, query_id)
    cameras = {s["metric"]["camera"] for s in samples if "camera" in s["metric"]}
    assert cameras <= {CAMERA}, f"{query_id}: other cameras {cameras}"


@pytest.mark.parametrize("rule", alert_rules(), ids=[r["alert"] for r in alert_rules()])
def test_alert_expression_returns_data_and_evaluates(stack: Stack, rule: dict[str, Any]) -> None:
    wait_for_data(stack, without_threshold(rule["expr"]), rule["alert"])

    loaded: dict[str, Any] = {}

    def evaluated() -> bool:
        for group in api(stack, "rules", type="alert")["groups"]:
            for found in group["rules"]:
                if found["name"] == rule["alert"] and found.get("lastEvaluation", "").startswith("2"):
                    loaded.update(found)  # evaluated at least once (never: year 0001)
                    return True
        return False

    wait_for(evaluated, time_left(stack), f"Prometheus evaluating {rule['alert']}", 0.5)
    assert loaded["health"] == "ok", loaded.get("lastError")


def test_dead_letters_fire_their_alert(stack: Stack) -> None:
    """A counter's first increment makes its series (a scrape sees it at 1, no increase yet); the next
    dead letter is an increase, and the alert (no ``for``) fires."""
    wait_for_data(stack, 'emostream_dead_letters_total{stage="detector", reason="malformed"}', "the first dead letter")
    poison(stack)

    def firing() -> bool:
        alerts = api(stack, "alerts")["alerts"]
        return any(a["labels"]["alertname"] == "EmostreamDeadLettersRising" and a["state"] == "firing"
                   and a["labels"].get("reason") == "malformed" for a in alerts)  # fmt: skip

    wait_for(firing, time_left(stack), "EmostreamDeadLettersRising firing", 0.5)
