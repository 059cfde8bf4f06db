"""Quality flags of a detected face: too small, blurred, turned away, or cut by the frame edge.

Pose comes from the keypoints alone, in the eye-aligned frame (x along the eye line):

- yaw ratio: offset of the nose from the eye midpoint along the eye line / eye distance
  (0 when frontal, about 0.5 at ~45 degrees);
- roll: angle of the eye line;
- ear asymmetry: |d(right ear, right eye) - d(left ear, left eye)| / sum (BlazeFace only: a
  turned face hides one ear, whose predicted point falls close to its eye). Skipped when the
  detector gives no ears (NaN, as with CenterFace).

Thresholds were set on real data (see ``services/detector/README.md``): yaw 0.45 and ear asymmetry
0.75 are the 95th percentiles over FER2013 training faces (the classifier has seen up to that);
sharpness 100 lies below every sharp real face crop measured (5th percentile 175) and above
most faces blurred by a Gaussian of sigma 1.5 crop pixels (95th percentile 116).

Blur is the variance of the Laplacian of the aligned grey crop: the crop has the same scale for
every face, so one threshold fits near and far faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from emostream.core.types import FaceDetection, Keypoint, QualityFlag


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality flags (pixels are frame pixels)."""

    min_face_px: float = 32.0  # box width or height below this -> TOO_SMALL
    min_eye_distance_px: float = 10.0  # eye distance below this -> TOO_SMALL
    min_sharpness: float = 100.0  # variance of the Laplacian of the 48x48 crop below this -> BLURRED
    max_yaw_ratio: float = 0.45  # |nose offset| / eye distance above this -> TURNED
    max_roll_deg: float = 40.0  # |eye-line angle| above this -> TURNED
    max_ear_asymmetry: float = 0.75  # ear-eye distance asymmetry above this -> TURNED
    cut_tolerance: float = 0.1  # box past the frame edge by more than this x its size -> CUT
    max_outside: float = 0.15  # fraction of the aligned crop outside the frame above this -> CUT


@dataclass(frozen=True)
class Pose:
    """Pose cues from the keypoints; ``ear_asymmetry`` is NaN without ear keypoints."""

    yaw_ratio: float
    roll_deg: float
    ear_asymmetry: float


def estimate_pose(keypoints: np.ndarray) -> Pose:
    """Yaw ratio, roll and ear asymmetry from (6, 2) BlazeFace-order keypoints."""
    right, left, nose = keypoints[Keypoint.RIGHT_EYE], keypoints[Keypoint.LEFT_EYE], keypoints[Keypoint.NOSE]
    eye_vec = left - right
    distance = float(np.hypot(*eye_vec))
    if distance < 1e-6:
        return Pose(math.inf, 0.0, math.nan)
    along = eye_vec / distance
    yaw = float(np.dot(nose - (right + left) / 2, along)) / distance
    roll = math.degrees(math.atan2(float(eye_vec[1]), float(eye_vec[0])))
    ears = keypoints[[Keypoint.RIGHT_EAR, Keypoint.LEFT_EAR]]
    asym = math.nan
    if np.isfinite(ears).all():
        d_right = float(np.hypot(*(ears[0] - right)))
        d_left = float(np.hypot(*(ears[1] - left)))
        asym = abs(d_right - d_left) / max(d_right + d_left, 1e-6)
    return Pose(yaw, roll, asym)


def sharpness(crop: np.ndarray) -> float:
    """Variance of the Laplacian of a grey crop (higher is sharper)."""
    return float(cv2.Laplacian(crop, cv2.CV_32F).var())


def is_cut(detection: FaceDetection, frame_hw: tuple[int, int], tolerance: float) -> bool:
    """Whether the box reaches past the frame edge by more than ``tolerance`` x its size."""
    h, w = frame_hw
    b = detection.box
    mx, my = tolerance * b.width, tolerance * b.height
    return b.x1 < -mx or b.y1 < -my or b.x2 > w + mx or b.y2 > h + my


def assess(
    detection: FaceDetection,
    crop: np.ndarray,
    frame_hw: tuple[int, int],
    config: QualityConfig | None = None,
    outside: float = 0.0,
) -> frozenset[QualityFlag]:
    """All quality flags of one face; empty when the face is usable.

    ``outside`` is the fraction of the aligned crop that lies outside the frame
    (:func:`emostream.detector.align.outside_fraction`); detectors such as CenterFace box only
    the visible part of a cut face, so the box test alone misses them.
    """
    config = config or QualityConfig()
    flags = set()
    kps = detection.keypoints
    eye_distance = float(np.hypot(*(kps[Keypoint.LEFT_EYE] - kps[Keypoint.RIGHT_EYE])))
    box = detection.box
    if min(box.width, box.height) < config.min_face_px or eye_distance < config.min_eye_distance_px:
        flags.add(QualityFlag.TOO_SMALL)
    if sharpness(crop) < config.min_sharpness:
        flags.add(QualityFlag.BLURRED)
    pose = estimate_pose(kps)
    if (
        abs(pose.yaw_ratio) > config.max_yaw_ratio
        or abs(pose.roll_deg) > config.max_roll_deg
        or pose.ear_asymmetry > config.max_ear_asymmetry  # False when NaN
    ):
        flags.add(QualityFlag.TURNED)
    if is_cut(detection, frame_hw, config.cut_tolerance) or outside > config.max_outside:
        flags.add(QualityFlag.CUT)
    return frozenset(flags)
