"""One detector replica: a consumer of group ``detector`` over every camera's frames stream.

For each entry: decode (poison -> ``emostream:dead``, acknowledged), run the detector stage (all crops of
the frame in one Classify call), then write the Detections entry and XACK in one transaction. While the
classifier is down the entry stays pending and is retried with backoff; the worker refreshes its claim
meanwhile (XCLAIM JUSTID), so that only a dead replica's entries are taken over by XAUTOCLAIM.

Live frames (``Frame.live``): newest frame wins (:mod:`emostream.detector.freshness`). Having read a live
entry, the worker takes the rest of that stream's backlog at once; every live entry but the newest, and any
older than ``live_max_age_ms``, is answered with a skipped Detections entry and acknowledged in one
transaction, so that the aggregator moves on at once. Replay frames are never skipped.

Each camera's frames go through its own fork of the replica's stage (:mod:`emostream.detector.cameras`).
Before its first read the worker warms its detector up on a blank frame (:meth:`DetectorStage.warm_up`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
import redis

from emostream.classifier.client import ClassifierRpcError
from emostream.classifier.engine import EmotionClassifier, ModelInfo
from emostream.core.health import Health
from emostream.core.types import FrameDetections
from emostream.detector.cameras import CameraStates
from emostream.detector.freshness import Pending, SkipReason, plan_batch, too_old
from emostream.detector.metrics import DetectorMetrics
from emostream.detector.settings import DetectorSettings
from emostream.detector.stage import DetectorStage
from emostream.protos.v1 import stream_pb2
from emostream.transport import claim_check
from emostream.transport.backpressure import ensure_group
from emostream.transport.codec import (
    PayloadError,
    decode_frame,
    decode_frame_image,
    detections_to_proto,
    encode_entry,
    end_of_stream_detections,
    frame_from_proto,
    skipped_detections,
)
from emostream.transport.connection import REDIS_DOWN_ERRORS, Backoff
from emostream.transport.dead_letter import DeadLetter, DeadLetterReason, add_dead_letter
from emostream.transport.keys import (
    CAMERAS_KEY,
    DETECTOR_GROUP,
    camera_from_stream,
    detections_stream,
    frames_pattern,
    frames_stream,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
STAGE = "detector"
# The classifier is away, overloaded or misconfigured (a wrong token): not the frame's fault, so the entry
# stays pending and health says so. Any other code (INVALID_ARGUMENT, ...) is about the data: dead letter.
RETRY_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
})  # fmt: skip


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class FrameExpired(Exception):
    """A live frame passed its max age while the classifier was away: skip it for a newer one."""


class TimedClassifier:
    """An ``EmotionClassifier`` that times each call into ``emostream_classify_rpc_seconds``."""

    def __init__(self, inner: EmotionClassifier, metrics: DetectorMetrics) -> None:
        self._inner, self._metrics = inner, metrics

    @property
    def info(self) -> ModelInfo:
        return self._inner.info

    def classify(self, crops: Any) -> Any:
        with self._metrics.classify_rpc_seconds.time():
            return self._inner.classify(crops)


class DetectorWorker:
    """Reads, processes and acknowledges frames until ``stop`` is set. Run :meth:`run` in a thread.
    ``stage`` is the replica's: each camera gets a fork of it (its models, the camera's own state)."""

    def __init__(
        self,
        client: Any,
        consumer: str,
        stage: DetectorStage,
        settings: DetectorSettings,
        metrics: DetectorMetrics,
        health: Health,
        stop: threading.Event,
    ) -> None:
        self.client, self.consumer, self.stage = client, consumer, stage
        self.settings, self.metrics, self.health, self.stop = settings, metrics, health, stop
        self.streams: set[str] = set()
        self._next_discover = 0.0
        self._next_claim = 0.0
        self._recover = True  # first (and after an outage) finish this consumer's own pending entries
        self.cameras = CameraStates(stage, settings.camera_idle_forget_s)
        self.warm = False
        self.processed = 0
        self.skipped = 0

    # --- the loop ------------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Run the detector once on a blank frame (no camera's state touched); done once, before the first read."""
        if self.warm:
            return
        started = time.perf_counter()
        self.stage.warm_up()
        self.warm = True
        log.info("event=warmed_up consumer=%s seconds=%.3f", self.consumer, time.perf_counter() - started)

    def run(self) -> None:
        self.warm_up()
        backoff = Backoff(initial=0.1, maximum=5.0)
        log.info("event=worker_started consumer=%s", self.consumer)
        while not self.stop.is_set():
            try:
                self._step()
                backoff.reset()
                self.health.set("redis", True)
            except REDIS_DOWN_ERRORS as error:
                self.health.set("redis", False, str(error))
                log.warning("event=redis_unavailable consumer=%s error=%r", self.consumer, str(error))
                self.streams.clear()  # re-create the groups once Redis is back (it may have restarted empty)
                self._recover = True  # the entry in hand may not have been acknowledged
                backoff.wait(self.stop)
            except redis.ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                log.warning("event=group_missing consumer=%s error=%r", self.consumer, str(error))
                self.streams.clear()
                self._next_discover = 0.0
        log.info("event=worker_stopped consumer=%s processed=%d", self.consumer, self.processed)

    def _step(self) -> None:
        now = time.monotonic()
        if now >= self._next_discover:
            self.discover()
            self._next_discover = now + self.settings.discover_interval_s
        if not self.streams:
            self.stop.wait(min(self.settings.discover_interval_s, 0.5))
            return
        if self._recover:
            self._recover = self.recover() > 0
            return
        if now >= self._next_claim:
            claimed = self.claim()
            # found some: look again at once (a dead replica may have left more)
            self._next_claim = now if claimed else now + self.settings.claim_interval_s
            if claimed:
                return
        self.read()

    def discover(self) -> None:
        """Every camera's frames stream: the registered cameras and whatever SCAN finds; groups created."""
        found = set()
        for camera in self.client.smembers(CAMERAS_KEY):
            try:
                found.add(frames_stream(_text(camera)))
            except ValueError:
                log.warning("event=bad_camera_name camera=%r", camera)
        found |= {_text(key) for key in self.client.scan_iter(match=frames_pattern(), count=1000, _type="STREAM")}
        for stream in sorted(found - self.streams):
            ensure_group(self.client, stream, DETECTOR_GROUP)
            try:
                self.metrics.add_camera(camera_from_stream(stream))
            except ValueError:
                pass
            log.info("event=stream_found consumer=%s stream=%s", self.consumer, stream)
        self.streams |= found

    def claim(self) -> int:
        """Take over entries another consumer has left pending for ``claim_idle_ms``; process them."""
        handled = 0
        for stream in sorted(self.streams):
            result = self.client.xautoclaim(
                stream, DETECTOR_GROUP, self.consumer, min_idle_time=self.settings.claim_idle_ms, count=1
            )
            for entry_id, fields in result[1]:
                if fields is None:  # trimmed meanwhile
                    self.client.xack(stream, DETECTOR_GROUP, entry_id)
                    continue
                log.info("event=claimed consumer=%s stream=%s id=%s", self.consumer, stream, _text(entry_id))
                self.handle_batch(stream, [(entry_id, fields)])
                handled += 1
        return handled

    def recover(self) -> int:
        """Process entries delivered to this consumer but never acknowledged (a restart, a Redis outage
        mid-write); returns how many there were."""
        return self.read(new=False)

    def read(self, new: bool = True) -> int:
        """New entries (blocking up to ``block_ms``), or with ``new=False`` this consumer's pending ones."""
        response = self.client.xreadgroup(
            DETECTOR_GROUP, self.consumer, {stream: ">" if new else "0" for stream in sorted(self.streams)},
            count=1 if new else 16, block=self.settings.block_ms if new else None,
        )  # fmt: skip
        handled = 0
        for stream, entries in response or ():
            if self.stop.is_set():
                return handled  # left pending: a survivor (or this consumer, restarted) claims them
            handled += self.handle_batch(_text(stream), list(entries), drain=new)
        return handled

    # --- a batch of one stream -----------------------------------------------------------------------------

    def handle_batch(self, stream: str, entries: list[tuple[Any, Any]], drain: bool = False) -> int:
        """Decode one stream's entries (stream order); with ``drain``, a live one brings in the rest of the
        stream's backlog. Stale live frames are skipped, the rest processed in order. Returns the entries
        handled (left pending once ``stop`` is set)."""
        batch = self._decoded(stream, entries)
        max_age_s = self.settings.live_max_age_ms / 1000
        behind = False
        if drain and batch and batch[-1].skippable:
            while not self.stop.is_set():
                raw = self._backlog(stream)
                more = self._decoded(stream, raw)
                behind = behind or bool(more)
                batch.extend(more)
                if len(raw) < self.settings.live_batch:
                    break
                page = plan_batch(batch, time.time(), max_age_s)  # a long backlog: its stale part, page by page
                self._skip(stream, page.skip)
                batch = page.process
        if self.stop.is_set():
            return 0  # left pending: a survivor (or this consumer, restarted) claims them
        plan = plan_batch(batch, time.time(), max_age_s)
        self._skip(stream, plan.skip)
        handled = len(plan.skip)
        for item in plan.process:
            if self.stop.is_set():
                break
            self.handle(stream, item, behind=behind or bool(plan.skip))
            handled += 1
        return handled

    def _backlog(self, stream: str) -> list[tuple[Any, Any]]:
        """The stream's entries not yet delivered to anyone (up to ``live_batch``), without waiting."""
        response = self.client.xreadgroup(DETECTOR_GROUP, self.consumer, {stream: ">"},
                                          count=self.settings.live_batch)  # fmt: skip
        return [entry for _, entries in response or () for entry in entries]

    def _decoded(self, stream: str, entries: list[tuple[Any, Any]]) -> list[Pending]:
        """The entries as Frame messages; trimmed ones acknowledged, poison ones dead-lettered."""
        out = []
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            if not fields:  # pending, but trimmed from the stream meanwhile
                self.client.xack(stream, DETECTOR_GROUP, entry_id)
                continue
            try:
                message = decode_frame(fields)
                if message.camera != camera_from_stream(stream):
                    raise PayloadError(DeadLetterReason.MALFORMED,
                                       f"camera {message.camera!r} in the stream of another")  # fmt: skip
            except PayloadError as error:
                self._dead_letter(stream, entry_id, fields, error)
                continue
            out.append(Pending(entry_id, fields, message))
        return out

    def _skip(self, stream: str, skipped: list[tuple[Pending, SkipReason]]) -> None:
        """A skipped Detections entry for each, and their XACKs, in one transaction; then count them."""
        if not skipped:
            return
        with self.client.pipeline(transaction=True) as pipe:
            for item, _ in skipped:
                message = item.message
                pipe.xadd(detections_stream(message.camera), encode_entry(skipped_detections(message)),
                          maxlen=self.settings.detections_maxlen, approximate=True)  # fmt: skip
                pipe.xack(stream, DETECTOR_GROUP, item.entry_id)
                if message.image_key:
                    pipe.delete(message.image_key)
            pipe.execute()
        for item, reason in skipped:
            self.metrics.frames_skipped.labels(item.message.camera, reason.value).inc()
        self.skipped += len(skipped)
        log.debug("event=live_skipped stream=%s frames=%d seqs=%d-%d", stream, len(skipped),
                  skipped[0][0].message.seq, skipped[-1][0].message.seq)  # fmt: skip

    # --- one entry -----------------------------------------------------------------------------------------

    def handle(self, stream: str, item: Pending, behind: bool = False) -> None:
        """Process one entry: Detections + XACK, or dead letter + XACK, or skipped + XACK (a live frame that
        expired while the classifier was away), or (stopped) left pending."""
        entry_id, fields, message = item.entry_id, item.fields, item.message
        try:
            output = self._detections(stream, entry_id, message, behind)
        except FrameExpired:
            self._skip(stream, [(item, SkipReason.MAX_AGE)])
            return
        except PayloadError as error:
            self._dead_letter(stream, entry_id, fields, error)
            return
        except (*REDIS_DOWN_ERRORS, redis.ResponseError):
            raise  # the entry stays pending; the loop reconnects and recovers it
        except Exception as error:  # never let one entry kill the replica, nor retry it forever
            log.exception("event=processing_failed stream=%s id=%s", stream, entry_id)
            failure = PayloadError(DeadLetterReason.PROCESSING_FAILED, f"{error.__class__.__name__}: {error}")
            self._dead_letter(stream, entry_id, fields, failure)
            return
        if output is None:
            return
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(detections_stream(message.camera), encode_entry(output),
                      maxlen=self.settings.detections_maxlen, approximate=True)  # fmt: skip
            pipe.xack(stream, DETECTOR_GROUP, entry_id)
            if message.image_key:
                pipe.delete(message.image_key)
            pipe.execute()
        self.processed += 1

    def _detections(
        self, stream: str, entry_id: str, message: stream_pb2.Frame, behind: bool = False
    ) -> stream_pb2.Detections | None:
        info = self._with_classifier(stream, entry_id, lambda: self.stage.classifier.info, message)
        if info is None:
            return None
        if message.end_of_stream:
            log.info("event=end_of_stream camera=%s seq=%d", message.camera, message.seq)
            self.cameras.end(message.camera)
            return end_of_stream_detections(message, info.version)
        data = claim_check.fetch(self.client, message)
        if data is None:
            raise PayloadError(DeadLetterReason.IMAGE_EXPIRED, f"image {message.image_key} expired before use")
        frame = frame_from_proto(message, decode_frame_image(message, data, self.settings.max_image_pixels))
        stage = self.cameras.stage(message.camera)
        thorough = self.cameras.thorough(message, frame.image.shape[:2], behind)
        started = time.perf_counter()
        faces = stage.detect(frame, thorough)  # once: a classifier retry must not advance the camera's state
        detections: FrameDetections | None = self._with_classifier(
            stream, entry_id, lambda: FrameDetections(frame.meta, stage.classify(faces)), message
        )
        if detections is None:
            return None
        camera = message.camera
        self.metrics.detect_seconds.labels(camera).observe(time.perf_counter() - started)
        self.metrics.faces_per_frame.labels(camera).observe(len(detections.faces))
        self.metrics.frames.labels(camera).inc()
        output = detections_to_proto(detections, info.classes, info.version, thorough)
        output.live = message.live
        return output

    def _with_classifier(
        self, stream: str, entry_id: str, call: Callable[[], T], message: stream_pb2.Frame | None = None
    ) -> T | None:
        """``call()``, retried with backoff while the classifier is unavailable (None: stopped meanwhile).
        The entry stays pending; its idle time is refreshed so that live replicas do not steal it. A live
        ``message`` that passes its max age meanwhile raises :class:`FrameExpired`: a newer frame is due."""
        backoff = Backoff(initial=0.5, maximum=10.0)
        max_age_s = self.settings.live_max_age_ms / 1000
        while not self.stop.is_set():
            try:
                result = call()
            except ClassifierRpcError as error:
                if error.code not in RETRY_CODES:
                    raise PayloadError(DeadLetterReason.REJECTED, str(error)) from error
                self.health.set("classifier", False, f"{error.code.name}: {error.details}")
                log.warning("event=classifier_unavailable consumer=%s code=%s pending_id=%s",
                            self.consumer, error.code.name, entry_id)  # fmt: skip
                if backoff.wait(self.stop):
                    return None
                if message is not None and too_old(message, time.time(), max_age_s):
                    raise FrameExpired(entry_id) from error
                self.client.xclaim(stream, DETECTOR_GROUP, self.consumer, 0, [entry_id], justid=True)
                continue
            self.health.set("classifier", True)
            return result
        return None

    def _dead_letter(self, stream: str, entry_id: str, fields: dict[Any, Any], error: PayloadError) -> None:
        letter = DeadLetter(STAGE, stream, entry_id, error.reason, str(error))
        with self.client.pipeline(transaction=True) as pipe:
            add_dead_letter(pipe, letter, fields)
            pipe.xack(stream, DETECTOR_GROUP, entry_id)
            pipe.execute()
        self.metrics.dead_letters.labels(STAGE, error.reason.value).inc()
        log.warning("event=dead_letter stage=%s stream=%s id=%s reason=%s detail=%r",
                    STAGE, stream, entry_id, error.reason.value, str(error))  # fmt: skip
