"""Face alignment: one affine warp from the full frame to a 48x48 grey crop framed like FER2013.

The crop is rotated so that the eye line is horizontal, scaled so that the eyes are
``AlignGeometry.eye_distance`` x size apart, and shifted so that their midpoint sits at
(size / 2, ``eye_y`` x size).

Defaults were measured by running BlazeFace on 800 FER2013 training faces: for frontal faces
(nose within 8% of the eye distance of the eye midpoint) the median eye distance is 0.378 of the
crop width and the eye line lies at 0.393 of its height. Tune them by measuring the accuracy of
detector + aligner + model on real photos; every function here takes the geometry as a parameter.

Example::

    aligner = FaceAligner()
    faces = aligner.align(frame_bgr, detector.detect(frame_bgr))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from emostream.core.types import AlignedFace, FaceDetection, Keypoint
from emostream.detector.quality import QualityConfig, assess

MAX_SUPERSAMPLE = 4


@dataclass(frozen=True)
class AlignGeometry:
    """Where the eyes land in the crop, as fractions of its side."""

    eye_distance: float = 0.38  # distance between the eye centres / crop width
    eye_y: float = 0.39  # height of the eye line / crop height (from the top)
    size: int = 48  # crop side in pixels

    def eye_targets(self) -> np.ndarray:
        """(2, 2) crop coordinates of the subject's right eye (image left) and left eye."""
        half = self.eye_distance * self.size / 2
        cx, cy = self.size / 2, self.eye_y * self.size
        return np.array([[cx - half, cy], [cx + half, cy]], dtype=np.float32)


def alignment_matrix(
    right_eye: np.ndarray, left_eye: np.ndarray, geometry: AlignGeometry, scale: float = 1.0
) -> np.ndarray:
    """The 2x3 affine matrix taking frame pixels to crop pixels (of a crop ``scale`` times larger).

    ``right_eye`` is the subject's right eye (BlazeFace keypoint 0, on the image's left).
    """
    dx, dy = float(left_eye[0] - right_eye[0]), float(left_eye[1] - right_eye[1])
    distance = math.hypot(dx, dy)
    if distance < 1e-6:
        raise ValueError("the two eye keypoints coincide")
    s = geometry.eye_distance * geometry.size * scale / distance
    cos, sin = s * dx / distance, s * dy / distance  # rotation by -angle of the eye line, times s
    mx, my = (right_eye[0] + left_eye[0]) / 2, (right_eye[1] + left_eye[1]) / 2
    tx = geometry.size * scale / 2 - (cos * mx + sin * my)
    ty = geometry.eye_y * geometry.size * scale - (-sin * mx + cos * my)
    return np.array([[cos, sin, tx], [-sin, cos, ty]], dtype=np.float64)


def align_crop(image_bgr: np.ndarray, keypoints: np.ndarray, geometry: AlignGeometry | None = None) -> np.ndarray:
    """The aligned (size, size) uint8 grey crop of the face with these keypoints.

    One ``warpAffine`` reads straight from the frame. When the face is shrunk by more than 2x,
    the warp targets a crop up to 4x larger that ``INTER_AREA`` then reduces, so that large
    faces are not aliased; that buffer is at most (4 x size)^2 x 3 bytes.
    """
    geometry = geometry or AlignGeometry()
    right, left = keypoints[Keypoint.RIGHT_EYE], keypoints[Keypoint.LEFT_EYE]
    shrink = float(np.hypot(*(left - right))) / (geometry.eye_distance * geometry.size)
    factor = int(min(MAX_SUPERSAMPLE, max(1, math.floor(shrink))))
    matrix = alignment_matrix(right, left, geometry, scale=factor)
    side = geometry.size * factor
    crop = cv2.warpAffine(image_bgr, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if factor > 1:
        crop = cv2.resize(crop, (geometry.size, geometry.size), interpolation=cv2.INTER_AREA)
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return crop


def outside_fraction(
    keypoints: np.ndarray, frame_hw: tuple[int, int], geometry: AlignGeometry | None = None, grid: int = 8
) -> float:
    """Fraction of the aligned crop that lies outside the frame (filled by replicated border).

    Samples a ``grid`` x ``grid`` lattice of crop pixels and maps it back to the frame.
    """
    geometry = geometry or AlignGeometry()
    matrix = alignment_matrix(keypoints[Keypoint.RIGHT_EYE], keypoints[Keypoint.LEFT_EYE], geometry)
    inverse = cv2.invertAffineTransform(matrix)
    ticks = (np.arange(grid) + 0.5) * geometry.size / grid
    xx, yy = np.meshgrid(ticks, ticks)
    pts = np.stack([xx.ravel(), yy.ravel(), np.ones(grid * grid)])
    fx, fy = inverse @ pts
    h, w = frame_hw
    inside = (fx >= 0) & (fx < w) & (fy >= 0) & (fy < h)
    return 1.0 - float(inside.mean())


class FaceAligner:
    """Turns detections into :class:`AlignedFace` objects: aligned crop plus quality flags."""

    def __init__(self, geometry: AlignGeometry | None = None, quality: QualityConfig | None = None) -> None:
        self.geometry = geometry or AlignGeometry()
        self.quality = quality or QualityConfig()

    def align_one(self, image_bgr: np.ndarray, detection: FaceDetection) -> AlignedFace:
        """Align one detection and flag its quality."""
        crop = align_crop(image_bgr, detection.keypoints, self.geometry)
        frame_hw = (image_bgr.shape[0], image_bgr.shape[1])
        outside = outside_fraction(detection.keypoints, frame_hw, self.geometry)
        flags = assess(detection, crop, frame_hw, self.quality, outside=outside)
        return AlignedFace(detection=detection, crop=crop, quality=flags)

    def align(self, image_bgr: np.ndarray, detections: list[FaceDetection]) -> list[AlignedFace]:
        """Align every detection of a frame, in order."""
        return [self.align_one(image_bgr, d) for d in detections]
