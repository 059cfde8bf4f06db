"""Per-camera detection state of one detector replica.

A replica consumes every camera's frames stream, their entries interleaved as they come. What detection
remembers between frames belongs to one camera: the cascade detector follows the faces of *that camera's*
previous frame, and a live camera has its own thorough-pass rhythm. So each camera gets its own stage, forked
from the replica's on the camera's first frame: the ONNX sessions are loaded once per replica, not once per
camera, and a camera's results do not depend on how its frames interleave with other cameras'. A camera's
end of stream forgets its state, so that its next stream starts afresh, as the embedded pipeline's does.

    >>> cameras = CameraStates(stage)  # doctest: +SKIP
    >>> cameras.stage("cam1") is cameras.stage("cam1"), cameras.stage("cam1") is cameras.stage("cam2")  # doctest: +SKIP
    (True, False)
"""

from __future__ import annotations

from emostream.detector.freshness import LiveRhythm
from emostream.detector.stage import DetectorStage
from emostream.protos.v1 import stream_pb2


class CameraStates:
    """The stage (and live rhythm) of each camera one replica has seen, forked from ``template``."""

    def __init__(self, template: DetectorStage) -> None:
        self.template = template
        self._stages: dict[str, DetectorStage] = {}
        self._rhythm = LiveRhythm()

    @property
    def cameras(self) -> frozenset[str]:
        """The cameras that have state now."""
        return frozenset(self._stages)

    def stage(self, camera: str) -> DetectorStage:
        """``camera``'s stage, made on its first frame."""
        stage = self._stages.get(camera)
        if stage is None:
            stage = self._stages[camera] = self.template.fork()
        return stage

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
        self._rhythm.forget(camera)
