"""The detector stage: frame in, faces with aligned crops and calibrated emotions out.

Written once: the embedded pipeline calls it in-process, the detector service feeds it from Redis
Streams and hands it a gRPC classifier client. Both classifiers satisfy ``EmotionClassifier``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emostream.classifier.engine import EmotionClassifier
from emostream.core.types import AlignedFace, ClassifiedFace, Frame, FrameDetections
from emostream.detector.align import FaceAligner
from emostream.detector.base import FaceDetector


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
