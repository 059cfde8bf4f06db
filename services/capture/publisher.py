"""Frames into a camera's Redis stream: encode, claim-check big images, XADD under a backpressure policy.

:func:`publish_video` replays a file through a running stack: every frame, losslessly encoded (the detector
decodes exactly the pixels ``emostream replay`` would), waiting whenever the detectors fall behind, then
an end-of-stream entry. ``emostream replay VIDEO --remote`` uses it.

    client = connect("redis://127.0.0.1:6379/0")
    frames = publish_video(client, "clip1", Path("clip.mp4"))
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from emostream.capture.video_file import VideoFileReader
from emostream.core.types import Frame
from emostream.transport.backpressure import AddOutcome, Backpressure, BackpressurePolicy, StreamWriter
from emostream.transport.claim_check import DEFAULT_TTL_S, claim, new_nonce, store
from emostream.transport.codec import ImageEncoding, encode_entry, encode_image, end_of_stream_frame, frame_to_proto
from emostream.transport.connection import REDIS_DOWN_ERRORS, Backoff
from emostream.transport.keys import CAMERAS_KEY, DETECTOR_GROUP, frames_stream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishOptions:
    encoding: ImageEncoding = ImageEncoding.PNG
    jpeg_quality: int = 90
    inline_max_bytes: int = 256 * 1024  # bigger images travel by claim check
    image_ttl_s: int = DEFAULT_TTL_S


class FramePublisher:
    """Publishes one camera's frames. Redis errors propagate from :meth:`publish`; :meth:`publish_retrying`
    retries until Redis is back (replay: nothing is dropped). Under the ``DROP`` policy (a live source) each
    Frame says ``live``: a detector that falls behind may skip it for a newer one."""

    def __init__(self, client: Any, camera: str, backpressure: Backpressure, options: PublishOptions) -> None:
        self.client = client
        self.camera = camera
        self.options = options
        self.writer = StreamWriter(client, frames_stream(camera), DETECTOR_GROUP, backpressure)
        self._nonce = new_nonce()
        self._registered = False

    def _register(self) -> None:
        if not self._registered:
            self.client.sadd(CAMERAS_KEY, self.camera)
            self._registered = True

    def publish(self, frame: Frame, stop: threading.Event | None = None) -> AddOutcome:
        options = self.options
        data = encode_image(frame.image, options.encoding, options.jpeg_quality)
        message = frame_to_proto(frame, options.encoding, data)
        message.live = self.writer.backpressure.policy is BackpressurePolicy.DROP
        before: Callable[[Any], None] | None = None
        if len(data) > options.inline_max_bytes:
            key, blob = claim(message, self._nonce)

            def before(pipe: Any) -> None:
                store(pipe, key, blob, options.image_ttl_s)

        self._register()
        return self.writer.add(encode_entry(message), stop, before)

    def publish_end(self, seq: int, pts: float, stop: threading.Event | None = None) -> AddOutcome:
        """The end-of-stream entry (``seq``: one past the last frame)."""
        self._register()
        return self.writer.add(encode_entry(end_of_stream_frame(self.camera, seq, pts, time.time())), stop)

    def publish_retrying(self, send: Callable[[], AddOutcome], stop: threading.Event) -> AddOutcome:
        """``send()`` until Redis takes it (or ``stop``); waits with backoff while Redis is away."""
        backoff = Backoff(initial=0.1, maximum=2.0)
        while True:
            try:
                return send()
            except REDIS_DOWN_ERRORS as error:
                log.warning("event=redis_unavailable camera=%s error=%r", self.camera, str(error))
                self.writer.forget_group()
                if backoff.wait(stop):
                    return AddOutcome(None)


def publish_video(
    client: Any,
    camera: str,
    path: Path,
    *,
    high_water: int = 32,
    options: PublishOptions | None = None,
    stop: threading.Event | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> int:
    """Publish every frame of ``path`` to ``camera``'s stream in replay mode, then an end-of-stream entry.

    Returns the number of frames published. Waits while the detector group's backlog is at ``high_water``
    and while Redis is away; ``stop`` ends it early (no end-of-stream entry then). Raises ``SourceError``
    for a file that cannot be read.
    """
    stop = stop or threading.Event()
    publisher = FramePublisher(client, camera, Backpressure.replay(high_water), options or PublishOptions())
    count, next_seq, last_pts = 0, 0, 0.0
    with VideoFileReader(path, camera=camera) as reader:
        frame_period = 1.0 / reader.info.fps
        for frame in reader:
            outcome = publisher.publish_retrying(partial(publisher.publish, frame, stop), stop)
            if outcome.entry_id is None:
                return count
            count += 1
            next_seq, last_pts = frame.meta.seq + 1, frame.meta.pts
            if on_frame is not None:
                on_frame(frame)
        end_pts = last_pts + frame_period if count else 0.0
        publisher.publish_retrying(partial(publisher.publish_end, next_seq, end_pts, stop), stop)
        log.info("event=replay_published camera=%s frames=%d corrupt=%d", camera, count, reader.stats.frames_corrupt)
    return count
