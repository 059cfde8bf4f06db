"""A live HTTP MJPEG camera: captured, her face found; when it stalls the watchdog reconnects with backoff,
the source is reported down, and it comes back up by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emostream.transport.codec import decode_detections
from emostream.transport.keys import detections_stream
from tests.integration.stack import MakeStack, client_of, make_stack, metric_value, scrape, wait_for
from tests.support.mjpeg_server import MjpegServer

__all__ = ["make_stack"]  # the fixture, imported for pytest


@pytest.fixture
def camera(videos: Path) -> Iterator[MjpegServer]:
    server = MjpegServer(videos / "fer_woman2.mp4").start()
    yield server
    server.stop()


def test_a_stalled_mjpeg_camera_is_reconnected_by_the_watchdog(make_stack: MakeStack, camera: MjpegServer) -> None:
    stack = make_stack(("redis", "classifier", "detector", "capture"), camera_url=camera.url, camera="lobby",
                       env={"EMOSTREAM_CAPTURE_STALL_TIMEOUT_S": "2", "EMOSTREAM_CAPTURE_BACKOFF_INITIAL_S": "0.2",
                            "EMOSTREAM_CAPTURE_BACKOFF_MAX_S": "1"})  # fmt: skip
    client = client_of(stack)

    def classified_faces() -> int:
        entries = client.xrange(detections_stream("lobby"))
        return sum(any(f.label != "unknown" for f in decode_detections(e).faces) for _, e in entries)

    wait_for(classified_faces, 120, "her face, classified")
    port = stack.config.ports.capture_metrics

    def sample(name: str) -> float:
        return metric_value(scrape(port), name, camera="lobby") or 0.0

    wait_for(lambda: sample("emostream_source_up") == 1, 30, "the source reported up")
    camera.paused.set()  # connected, but no frame: only a watchdog notices
    wait_for(lambda: sample("emostream_source_up") == 0, 60, "the stalled source reported down")
    wait_for(lambda: sample("emostream_source_reconnects_total") >= 1, 60, "a reconnect")
    camera.paused.clear()
    before = sample("emostream_frames_captured_total")
    wait_for(lambda: sample("emostream_source_up") == 1 and sample("emostream_frames_captured_total") > before, 60,
             "frames again after the stall")  # fmt: skip
