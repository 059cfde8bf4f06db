"""The capture service (``emostream serve capture``): one reader thread per camera, frames into Redis.

- live sources (webcam, RTSP, HTTP MJPEG, or a file with ``mode=live``): newest frame wins
  (:class:`~emostream.capture.live.LiveSource`), JPEG, ``XADD MAXLEN ~``; every drop is counted with its
  reason (:class:`~emostream.capture.drops.DropReason`, each exported at 0 from the start): ``consumer_slow``
  (a newer frame replaced it), ``read_failed``, ``stream_full`` (trimmed unread), ``redis_unavailable``.
  Reconnects with backoff; a watchdog (FFmpeg read/open timeouts) ends stalled reads.
- replay (files): :func:`~emostream.capture.publisher.publish_video`: lossless, nothing dropped.

Health (``/healthz`` on the metrics port) fails while Redis is unreachable or a live source is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2

from emostream.capture.drops import DropReason
from emostream.capture.live import LiveConfig, LiveSource, OpenCapture, parse_source
from emostream.capture.metrics import CaptureMetrics
from emostream.capture.publisher import FramePublisher, PublishOptions, publish_video
from emostream.capture.settings import CaptureSettings
from emostream.core.health import Health, serve_http
from emostream.core.redact import redact_url
from emostream.core.types import Frame
from emostream.transport.backpressure import Backpressure
from emostream.transport.codec import ImageEncoding
from emostream.transport.connection import REDIS_DOWN_ERRORS, connect

log = logging.getLogger(__name__)

STREAM_FULL = DropReason.STREAM_FULL
REDIS_UNAVAILABLE = DropReason.REDIS_UNAVAILABLE
LIVE_INLINE_ALWAYS = 1 << 62


def open_with_timeouts(timeout_s: float) -> OpenCapture:
    """An ``open_capture`` for LiveSource whose FFmpeg opens and reads give up after ``timeout_s``: the
    watchdog that turns a stalled network source into a reconnect instead of a hung thread."""
    ms = int(timeout_s * 1000)

    def open_capture(source: int | str) -> cv2.VideoCapture:
        if isinstance(source, int):
            return cv2.VideoCapture(source)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        return cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)

    return open_capture


class LiveCamera:
    """One live source into its stream. ``run()`` in a thread; ``sync_metrics()`` now and then; ``stop()``."""

    def __init__(
        self,
        client: Any,
        camera: str,
        source: str,
        settings: CaptureSettings,
        metrics: CaptureMetrics,
        health: Health,
        open_capture: OpenCapture | None = None,
    ) -> None:
        self.camera, self.metrics, self.health = camera, metrics, health
        config = LiveConfig(
            stall_timeout_s=settings.stall_timeout_s,
            backoff_initial_s=settings.backoff_initial_s,
            backoff_max_s=settings.backoff_max_s,
            pace_files=settings.pace_files,
        )
        opener = open_capture or open_with_timeouts(settings.stall_timeout_s)
        self.source = LiveSource(parse_source(source), camera, config, opener)
        # live frames always travel inline: the capped stream bounds their memory, whereas claim-checked
        # images of trimmed entries would linger until their TTL
        options = PublishOptions(ImageEncoding.JPEG, settings.jpeg_quality, inline_max_bytes=LIVE_INLINE_ALWAYS)
        self.publisher = FramePublisher(client, camera, Backpressure.live(settings.maxlen), options)
        self.stall_timeout_s = settings.stall_timeout_s
        self._synced = {"frames": 0, "reconnects": 0}
        self._synced_drops: dict[str, int] = {}
        self._last_sync = time.monotonic()
        self._last_frame_at = 0.0
        self._last: Frame | None = None
        self._stopping = False

    def run(self) -> None:
        for frame in self.source:
            self._last = frame
            self._publish(frame)
        if not self._stopping and self._last is not None and Path(str(self.source.source)).is_file():
            meta = self._last.meta  # a file played live has ended: the aggregator may close its tracks
            try:
                self.publisher.publish_end(meta.seq + 1, meta.pts)
            except REDIS_DOWN_ERRORS:
                log.warning("event=end_of_stream_lost camera=%s", self.camera)

    def _publish(self, frame: Frame) -> None:
        try:
            outcome = self.publisher.publish(frame)
        except REDIS_DOWN_ERRORS as error:
            self.metrics.drop(self.camera, REDIS_UNAVAILABLE)
            self.publisher.writer.forget_group()
            self.health.set("redis", False, str(error))
            return
        self.health.set("redis", True)
        self.metrics.drop(self.camera, STREAM_FULL, outcome.trimmed_unread)

    def sync_metrics(self) -> None:
        """Copy the source's counters into Prometheus; up = a frame within the watchdog's stall timeout."""
        stats, now = self.source.stats, time.monotonic()
        new_frames = stats.frames_captured - self._synced["frames"]
        self.metrics.frames_captured.labels(self.camera).inc(new_frames)
        self.metrics.reconnects.labels(self.camera).inc(stats.reconnects - self._synced["reconnects"])
        for reason, count in list(stats.drops.items()):
            self.metrics.drop(self.camera, reason, count - self._synced_drops.get(reason, 0))
            self._synced_drops[reason] = count
        elapsed = max(now - self._last_sync, 1e-6)
        self.metrics.source_fps.labels(self.camera).set(new_frames / elapsed)
        if new_frames:
            self._last_frame_at = now
        up = now - self._last_frame_at < self.stall_timeout_s and self.source.state.value == "streaming"
        self.metrics.source_up.labels(self.camera).set(1 if up else 0)
        self.health.set(f"source:{self.camera}", up, self.source.state.value)
        self._synced = {"frames": stats.frames_captured, "reconnects": stats.reconnects}
        self._last_sync = now

    def stop(self) -> None:
        self._stopping = True
        self.source.stop()


class CaptureService:
    """Every camera of the settings, the metrics/health endpoint, and one stop event."""

    def __init__(self, settings: CaptureSettings, metrics: CaptureMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or CaptureMetrics()
        self.health = Health()
        self.stop_event = threading.Event()
        self.http: ThreadingHTTPServer | None = None
        self.client = connect(settings.redis_url, settings.redis_password_file, password=settings.password(),
                              name="emostream-capture")  # fmt: skip
        self.live: list[LiveCamera] = []
        self.threads: list[threading.Thread] = []

    def _replay(self, camera: str, source: str) -> None:
        options = PublishOptions(
            ImageEncoding.RAW_BGR if self.settings.replay_encoding == "raw" else ImageEncoding.PNG,
            inline_max_bytes=self.settings.inline_max_bytes,
            image_ttl_s=self.settings.image_ttl_s,
        )
        self.health.set(f"source:{camera}", True, "replay")
        self.metrics.source_up.labels(camera).set(1)
        counter = self.metrics.frames_captured.labels(camera)
        publish_video(self.client, camera, Path(source), high_water=self.settings.high_water, options=options,
                      stop=self.stop_event, on_frame=lambda _frame: counter.inc())  # fmt: skip
        self.metrics.source_up.labels(camera).set(0)
        self.health.set(f"source:{camera}", True, "replay finished")

    def start(self) -> None:
        settings = self.settings
        self.metrics.start_cameras(settings.sources())  # every counter at 0 before the first scrape
        if settings.metrics_port is not None:
            self.http = serve_http(settings.metrics_port, settings.host, self.metrics.registry, self.health)
        self.health.set("redis", True)
        for camera, source in sorted(settings.sources().items()):
            mode = settings.mode_of(source)
            target: Callable[[], None]
            if mode == "replay":
                target = partial(self._replay, camera, source)
            else:
                live = LiveCamera(self.client, camera, source, settings, self.metrics, self.health)
                self.live.append(live)
                target = live.run
            thread = threading.Thread(target=target, name=f"capture-{camera}", daemon=True)
            thread.start()
            self.threads.append(thread)
            log.info("event=camera_started camera=%s mode=%s source=%s", camera, mode, redact_url(source))
        port = self.http.server_port if self.http is not None else None
        log.info("event=capture_started cameras=%d metrics_port=%s", len(self.threads), port)

    def run(self) -> None:
        """Until ``stop_event`` is set or every source has ended."""
        while not self.stop_event.wait(1.0):
            for live in self.live:
                live.sync_metrics()
            try:
                self.health.set("redis", bool(self.client.ping()))
            except REDIS_DOWN_ERRORS as error:
                self.health.set("redis", False, str(error))
            if not any(thread.is_alive() for thread in self.threads):
                break
        self.close()

    def close(self) -> None:
        self.stop_event.set()
        for live in self.live:
            live.stop()
            live.sync_metrics()
        for thread in self.threads:
            thread.join(timeout=10)
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        self.client.close()
        log.info("event=capture_stopped")
