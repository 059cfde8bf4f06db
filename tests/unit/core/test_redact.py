from __future__ import annotations

import pytest

from emostream.core.redact import redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:hunter2@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
        ("http://cam.local/mjpg?user=a&password=secret&x=1", "http://cam.local/mjpg?user=a&password=***&x=1"),
        ("rtsp://cam/stream?token=abc", "rtsp://cam/stream?token=***"),
        ("/videos/clip.mp4", "/videos/clip.mp4"),
        ("0", "0"),
    ],
)
def test_credentials_never_survive(url: str, expected: str) -> None:
    assert redact_url(url) == expected
