"""Replay publishing into a (fake) Redis: every frame, losslessly, then end-of-stream; big images by claim check."""

from __future__ import annotations

from pathlib import Path

import cv2
import fakeredis
import numpy as np
import pytest
import redis

from emostream.capture.publisher import PublishOptions, publish_video
from emostream.capture.video_file import VideoFileReader
from emostream.transport.backpressure import group_state
from emostream.transport.claim_check import fetch
from emostream.transport.codec import ImageEncoding, decode_frame, decode_frame_image
from emostream.transport.keys import CAMERAS_KEY, DETECTOR_GROUP, frames_stream


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "tiny.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(6):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.mark.parametrize(
    "options",
    [PublishOptions(ImageEncoding.PNG), PublishOptions(ImageEncoding.RAW_BGR), PublishOptions(inline_max_bytes=0)],
    ids=["png", "raw", "claim-check"],
)
def test_replay_publishes_every_frame_pixel_identical_then_end_of_stream(
    tiny_video: Path, options: PublishOptions
) -> None:
    client = fakeredis.FakeRedis()
    count = publish_video(client, "cam1", tiny_video, high_water=1000, options=options)
    with VideoFileReader(tiny_video, camera="cam1") as reader:
        expected = list(reader)
    assert count == len(expected) == 6
    entries = client.xrange(frames_stream("cam1"))
    messages = [decode_frame(fields) for _, fields in entries]
    assert [m.seq for m in messages] == [0, 1, 2, 3, 4, 5, 6]
    assert messages[-1].end_of_stream and not any(m.end_of_stream for m in messages[:-1])
    assert not any(m.live for m in messages), "replay frames are never skipped by the detector"
    for message, frame in zip(messages, expected, strict=False):
        assert message.pts == frame.meta.pts
        image = decode_frame_image(message, fetch(client, message))
        assert np.array_equal(image, frame.image)
    if options.inline_max_bytes == 0:
        assert all(m.image_key and not m.image for m in messages[:-1])
        assert 0 < client.ttl(messages[0].image_key) <= options.image_ttl_s
    assert client.smembers(CAMERAS_KEY) == {b"cam1"}
    assert group_state(client, frames_stream("cam1"), DETECTOR_GROUP).lag == 7  # type: ignore[union-attr]


class FlakyRedis(fakeredis.FakeRedis):
    """Refuses the first ``failures`` XADDs as if Redis were restarting."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def xadd(self, *args: object, **kwargs: object) -> object:
        if self.failures > 0:
            self.failures -= 1
            raise redis.ConnectionError("Connection refused")
        return super().xadd(*args, **kwargs)  # type: ignore[arg-type]


def test_replay_waits_for_redis_and_drops_nothing(tiny_video: Path) -> None:
    client = FlakyRedis(failures=3)
    assert publish_video(client, "cam2", tiny_video, high_water=1000) == 6
    assert client.failures == 0
    assert [decode_frame(f).seq for _, f in client.xrange(frames_stream("cam2"))] == [0, 1, 2, 3, 4, 5, 6]
