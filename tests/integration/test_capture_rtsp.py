"""A real RTSP camera (GStreamer's RTSP server, with basic auth) captured live: JPEG frames into Redis, the
detector finding her face, her track's events arriving over WatchEvents, the source reported up, and the
camera's password in no log line or metric."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from emostream.aggregator.client import TimelineClient
from emostream.protos.v1 import stream_pb2
from emostream.stack.probes import http_status
from emostream.transport.codec import ImageEncoding, decode_detections, decode_frame
from emostream.transport.keys import detections_stream, frames_stream
from tests.integration.stack import MakeStack, client_of, make_stack, metric_value, scrape, wait_for

__all__ = ["make_stack"]  # the fixture, imported for pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).resolve().parents[1] / "support" / "rtsp_server.py"
USER, PASSWORD = "viewer", "s3cret-pw"


def _gst_rtsp_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30, check=False).returncode == 0


@pytest.fixture
def rtsp_url(videos: Path) -> Iterator[str]:
    """rtsp://viewer:PASSWORD@127.0.0.1:PORT/stream serving fer_woman2.mp4 in real time."""
    if not _gst_rtsp_available():
        pytest.skip("GStreamer RTSP server bindings missing (python3-gst-1.0, gir1.2-gst-rtsp-server-1.0)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"RTSP_TEST_USER": USER, "RTSP_TEST_PASSWORD": PASSWORD}
    server = subprocess.Popen(
        [SYSTEM_PYTHON, str(SERVER), "--video", str(videos / "fer_woman2.mp4")],
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # blocks until READY (or the server dies: EOF)
        match = re.match(r"READY (\d+)", line)
        assert match, f"the RTSP server did not start: {line!r}"
        yield f"rtsp://{USER}:{PASSWORD}@127.0.0.1:{match.group(1)}/stream"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def detections_of(client: redis.Redis, camera: str) -> list[stream_pb2.Detections]:
    return [decode_detections(fields) for _, fields in client.xrange(detections_stream(camera))]


def test_a_live_rtsp_camera_is_captured_and_her_face_found(make_stack: MakeStack, rtsp_url: str) -> None:
    stack = make_stack(("redis", "classifier", "detector", "aggregator", "capture"), camera_url=rtsp_url, camera="door")
    client = client_of(stack)
    found = wait_for(
        lambda: [d for d in detections_of(client, "door") if any(f.label != "unknown" for f in d.faces)],
        120, "a Detections entry with her face classified",
    )  # fmt: skip
    assert isinstance(found, list) and found
    [(_, fields)] = client.xrange(frames_stream("door"), count=1)
    frame = decode_frame(fields)
    assert frame.encoding == ImageEncoding.JPEG and (frame.width, frame.height) == (596, 336)
    assert not frame.end_of_stream

    with TimelineClient(stack.address(stack.config.ports.aggregator)) as timeline:
        first = next(timeline.watch(["door"], after_id="0-0", timeout=120))  # from the stream's start
    assert first.camera == "door" and first.type == stream_pb2.EVENT_TYPE_TRACK_STARTED, first

    port = stack.config.ports.capture_metrics
    wait_for(lambda: metric_value(scrape(port), "emostream_source_up", camera="door") == 1, 30, "source_up 1")
    text = scrape(port)
    assert (metric_value(text, "emostream_frames_captured_total", camera="door") or 0) > 0
    assert (metric_value(text, "emostream_source_fps", camera="door") or 0) > 0
    assert http_status(f"http://127.0.0.1:{port}/healthz") == 200
    assert PASSWORD not in text, "credentials in a metric label"
    stack.stop_service("capture")
    log = stack.log_file("capture").read_text(errors="replace")
    assert "source=rtsp://***@127.0.0.1" in log, "the source is logged, redacted"
    assert PASSWORD not in log, "credentials in the capture log"
