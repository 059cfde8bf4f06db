"""The detector stage: frame in, faces with aligned crops and calibrated emotions out.

Written once: the embedded pipeline calls it in-process, the detector service feeds it from Redis
Streams and hands it a gRPC classifier client. Both classifiers satisfy ``EmotionClassifier``.

A stage serves one stream (its detector may follow the faces of the previous frame): ``fork()`` makes the
stage of another stream on the same models, and ``warm_up()`` pays the models' first-run costs on a blank
frame before any real one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emostream.classifier.engine import EmotionClassifier
from emostream.core.types import AlignedFace, ClassifiedFace, Frame, FrameDetections
from emostream.detector.align import FaceAligner
from emostream.detector.base import FaceDetector, for_stream, warm_up

WARM_UP_FRAME_HW = (720, 1280)  # a blank 1280x720 frame: the live benchmark's size


@dataclass(frozen=True)
class DetectorStageConfig:
    thorough_every: int = 0  # thorough (small-face) pass every N frames, the fast pass between; 0: by frame size
    thorough_every_large: int = 5  # the automatic rhythm on frames whose long side is over 960 px
    thorough_every_small: int = 30  # ... and on smaller frames (where BlazeFace full-range already sees faces > ~8%)
    max_faces: int = 64  # per frame, best scores first


class DetectorStage:
    """Detect, align, check quality and classify every face of a frame (one classifier call per frame)."""

    def __init__(
        self,
        detector: FaceDetector,
        classifier: EmotionClassifier,
        aligner: FaceAligner | None = None,
        config: DetectorStageConfig | None = None,
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self.aligner = aligner or FaceAligner()
        self.config = config or DetectorStageConfig()

    def fork(self) -> DetectorStage:
        """The stage of another stream: the same models, classifier and aligner, the detector's own
        per-stream state (see :func:`emostream.detector.base.for_stream`)."""
        return DetectorStage(for_stream(self.detector), self.classifier, self.aligner, self.config)

    def warm_up(self, frame_hw: tuple[int, int] = WARM_UP_FRAME_HW) -> None:
        """Run the detector (thorough and fast passes, every model) on a blank frame of ``frame_hw``, on a fork,
        so that no stream's state is touched. A blank frame has no face: the classifier is not called."""
        warm_up(for_stream(self.detector), np.zeros((*frame_hw, 3), np.uint8))

    def faces(self, image_bgr: np.ndarray, thorough: bool = True) -> list[AlignedFace]:
        detections = self.detector.detect(image_bgr, thorough=thorough)[: self.config.max_faces]
        return self.aligner.align(image_bgr, detections)

    def classify(self, faces: list[AlignedFace]) -> tuple[ClassifiedFace, ...]:
        usable = [index for index, face in enumerate(faces) if face.usable]
        probabilities: list[np.ndarray | None] = [None] * len(faces)
        if usable:
            batch = np.stack([faces[index].crop for index in usable])
            for index, probs in zip(usable, self.classifier.classify(batch), strict=True):
                probabilities[index] = probs
        return tuple(ClassifiedFace(face, probs) for face, probs in zip(faces, probabilities, strict=True))

    def rhythm(self, frame_hw: tuple[int, ...]) -> int:
        """Every how many frames the thorough pass runs (measured in services/detector/README.md)."""
        if self.config.thorough_every > 0:
            return self.config.thorough_every
        large = max(frame_hw) > 960
        return self.config.thorough_every_large if large else self.config.thorough_every_small

    def detect(self, frame: Frame, thorough: bool | None = None) -> list[AlignedFace]:
        """The aligned faces of a frame, with the thorough pass on the rhythm of its seq (or as ``thorough``
        says: a live source, whose processed seqs have holes, chooses its own)."""
        if thorough is None:
            thorough = frame.meta.seq % self.rhythm(frame.image.shape[:2]) == 0
        return self.faces(frame.image, thorough)

    def classify_frames(self, frames: list[list[AlignedFace]]) -> list[tuple[ClassifiedFace, ...]]:
        """Classify the faces of several frames in one classifier call (offline throughput)."""
        flat = [face for faces in frames for face in faces]
        classified = self.classify(flat)
        out, start = [], 0
        for faces in frames:
            out.append(classified[start : start + len(faces)])
            start += len(faces)
        return out

    def process(self, frame: Frame, thorough: bool | None = None) -> FrameDetections:
        return FrameDetections(frame.meta, self.classify(self.detect(frame, thorough)))
