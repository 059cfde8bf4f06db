"""The data that flows between stages. Plain frozen dataclasses: cheap, typed and transport-free.

Coordinates are pixels of the original frame, x to the right and y down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum

import numpy as np


class Keypoint(int, Enum):
    """BlazeFace's six keypoints, in the order the model emits them (subject's right eye first)."""

    RIGHT_EYE = 0
    LEFT_EYE = 1
    NOSE = 2
    MOUTH = 3
    RIGHT_EAR = 4
    LEFT_EAR = 5


class QualityFlag(StrEnum):
    """Why a face may not be reliable enough to be given an emotion."""

    TOO_SMALL = "too_small"
    BLURRED = "blurred"
    TURNED = "turned"
    CUT = "cut"  # cut by the frame edge


@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def as_list(self) -> list[float]:
        return [round(self.x1, 2), round(self.y1, 2), round(self.x2, 2), round(self.y2, 2)]


@dataclass(frozen=True)
class FaceDetection:
    """One face found by the detector, before alignment."""

    box: Box
    score: float
    keypoints: np.ndarray  # (6, 2) float32, see Keypoint


@dataclass(frozen=True)
class AlignedFace:
    """A detected face, its 48x48 grayscale crop framed like FER2013, and its quality."""

    detection: FaceDetection
    crop: np.ndarray  # (48, 48) uint8
    quality: frozenset[QualityFlag] = field(default_factory=frozenset)

    @property
    def usable(self) -> bool:
        return not self.quality


@dataclass(frozen=True)
class FrameMeta:
    """Where a frame came from and when."""

    camera: str
    seq: int  # 0-based index of the frame in its source
    pts: float  # presentation time in seconds (the video's clock, not wall time)
    wall_time: float  # capture wall-clock time (epoch seconds)
    width: int
    height: int


@dataclass(frozen=True)
class Frame:
    meta: FrameMeta
    image: np.ndarray  # (H, W, 3) uint8 BGR


@dataclass(frozen=True)
class ClassifiedFace:
    """An aligned face with its 7 calibrated probabilities (FER2013 order), or None if unusable."""

    face: AlignedFace
    probabilities: np.ndarray | None  # (7,) float32


@dataclass(frozen=True)
class FrameDetections:
    """Everything the detector and classifier learnt about one frame."""

    meta: FrameMeta
    faces: tuple[ClassifiedFace, ...]


@dataclass(frozen=True)
class ModelInfo:
    """The emotion model: its name, version and ``classes`` in output order (what ``timeline.json`` records),
    and what the engine runs it with: crop size, softmax temperature, ONNX Runtime providers (defaults where
    they are unknown, as for a timeline whose classifier ran elsewhere)."""

    name: str
    version: str
    classes: tuple[str, ...]
    input_size: int = 48
    temperature: float = 1.0
    providers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "classes": list(self.classes),
            "input_size": self.input_size,
            "temperature": self.temperature,
        }
