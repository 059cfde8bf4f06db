"""Per-camera detection state of one detector replica.

A replica consumes every camera's frames stream, their entries interleaved as they come. What detection
remembers between frames belongs to one camera: the cascade detector follows the faces of *that camera's*
previous frame, and a live camera has its own thorough-pass rhythm. So each camera gets its own stage, forked
from the replica's on the camera's first frame: the ONNX sessions are loaded once per replica, not once per
camera, and a camera's results do not depend on how its frames interleave with other cameras'. A camera's
end of stream forgets its state, so that its next stream starts afresh, as the embedded pipeline's does; so
does a camera that has sent nothing for ``idle_forget_s`` (one that vanished without an end of stream: its
faces have moved on by then, and a long-running replica must not keep every camera it ever saw).

    >>> cameras = CameraStates(stage)  # doctest: +SKIP
    >>> cameras.stage("cam1") is cameras.stage("cam1"), cameras.stage("cam1") is cameras.stage("cam2")  # doctest: +SKIP
    (True, False)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from emostream.detector.freshness import LiveRhythm
from emostream.detector.stage import DetectorStage
from emostream.protos.v1 import stream_pb2


class CameraStates:
    """The stage (and live rhythm) of each camera one replica has seen, forked from ``template``."""

    def __init__(
        self, template: DetectorStage, idle_forget_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.template = template
        self.idle_forget_s = idle_forget_s
        self._clock = clock
        self._stages: dict[str, DetectorStage] = {}
        self._last_seen: dict[str, float] = {}
        self._next_sweep = clock() + idle_forget_s
        self._rhythm = LiveRhythm()

    @property
    def cameras(self) -> frozenset[str]:
        """The cameras that have state now."""
        return frozenset(self._stages)

    def stage(self, camera: str) -> DetectorStage:
        """``camera``'s stage, made on its first frame (or its first after ``idle_forget_s`` of silence)."""
        now = self._clock()
        if now >= self._next_sweep:
            self._forget_idle(now)
        stage = self._stages.get(camera)
        if stage is None:
            stage = self._stages[camera] = self.template.fork()
        self._last_seen[camera] = now
        return stage

    def _forget_idle(self, now: float) -> None:
        for camera in [c for c, seen in self._last_seen.items() if now - seen >= self.idle_forget_s]:
            self.end(camera)
        self._next_sweep = now + self.idle_forget_s / 2

    def thorough(self, message: stream_pb2.Frame, frame_hw: tuple[int, ...], behind: bool = False) -> bool:
        """Whether this frame gets the thorough pass: a replay frame on the embedded pipeline's rhythm
        (``seq % every == 0``, for identical results), a live one on its camera's :class:`LiveRhythm`."""
        every = self.stage(message.camera).rhythm(frame_hw)
        if message.live:
            return self._rhythm.thorough(message.camera, message.seq, every, behind)
        return message.seq % every == 0

    def end(self, camera: str) -> None:
        """The camera's stream ended: forget its state (its next frame starts a new one)."""
        self._stages.pop(camera, None)
        self._last_seen.pop(camera, None)
        self._rhythm.forget(camera)
