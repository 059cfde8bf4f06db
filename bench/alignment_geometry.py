"""Choose the aligner's geometry by measurement: accuracy of detector + aligner + model, per geometry.

    python -m bench.alignment_geometry [--fer-samples 1200]

Two labelled sets of real faces go through the whole runtime path (detect on the full image,
align with the geometry under test, classify):

1. FER2013 PublicTest faces, each upscaled 4x and placed in a larger grey canvas, so the detector
   and aligner must find and re-frame the face themselves (labels: FER2013's).
2. The labelled stretches of ``fer_woman2.mp4`` (tests/data/fer_woman2_labels.json): happy vs
   not happy, per frame, before any smoothing.

The geometry is (eye distance, eye-line height) as fractions of the crop side.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from bench.common import REPO, SHARED_DATA, write_result
from emostream.classifier.engine import DEFAULT_MODEL, OnnxEmotionClassifier
from emostream.components import PipelineSettings, build_detector
from emostream.detector.align import AlignGeometry, align_crop
from emostream.detector.base import FaceDetector

EYE_DISTANCES = (0.30, 0.34, 0.38, 0.42, 0.46)
EYE_HEIGHTS = (0.35, 0.39, 0.43)
HAPPY = 3


def fer_canvas(face: np.ndarray) -> np.ndarray:
    """A 48x48 FER face, 4x larger, centred in a 384x384 canvas of its own mean grey."""
    big = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((384, 384), int(face.mean()), np.uint8)
    canvas[96:288, 96:288] = big
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def first_face_keypoints(detector: FaceDetector, image: np.ndarray) -> np.ndarray | None:
    faces = detector.detect(image, thorough=True)
    return faces[0].keypoints if faces else None


def woman2_frames() -> tuple[list[np.ndarray], np.ndarray]:
    labels = json.loads((REPO / "tests" / "data" / "fer_woman2_labels.json").read_text())
    wanted: dict[int, bool] = {}
    for key, happy in (("happy", True), ("not_happy", False)):
        for start, end in labels[key]:
            wanted |= dict.fromkeys(range(start, end + 1), happy)
    capture = cv2.VideoCapture(str(SHARED_DATA / "videos" / labels["video"]))
    frames, truth = [], []
    seq = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if seq in wanted:
            frames.append(image)
            truth.append(wanted[seq])
        seq += 1
    return frames, np.array(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fer-samples", type=int, default=1200)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    detector = build_detector(PipelineSettings())
    classifier = OnnxEmotionClassifier(args.model, ("CPUExecutionProvider",))

    with np.load(SHARED_DATA / "fer2013" / "fer2013_train_val.npz") as data:
        pick = np.random.default_rng(0).permutation(len(data["y_val"]))[: args.fer_samples]
        fer_faces, fer_labels = data["x_val"][pick], data["y_val"][pick]
    fer_images = [fer_canvas(face) for face in fer_faces]
    fer_points = [first_face_keypoints(detector, image) for image in fer_images]
    found = [i for i, points in enumerate(fer_points) if points is not None]
    direct = float((classifier.classify(fer_faces).argmax(1) == fer_labels).mean())

    video_frames, video_truth = woman2_frames()
    video_points = [first_face_keypoints(detector, frame) for frame in video_frames]
    video_found = [i for i, points in enumerate(video_points) if points is not None]

    rows = []
    for eye_distance in EYE_DISTANCES:
        for eye_y in EYE_HEIGHTS:
            geometry = AlignGeometry(eye_distance=eye_distance, eye_y=eye_y)
            crops = np.stack([align_crop(fer_images[i], fer_points[i], geometry) for i in found])
            fer_accuracy = float((classifier.classify(crops).argmax(1) == fer_labels[found]).mean())
            video_crops = np.stack([align_crop(video_frames[i], video_points[i], geometry) for i in video_found])
            happy = classifier.classify(video_crops).argmax(1) == HAPPY
            video_accuracy = float((happy == video_truth[video_found]).mean())
            rows.append({"eye_distance": eye_distance, "eye_y": eye_y, "fer_realigned_accuracy": round(fer_accuracy, 4),
                         "woman2_happy_vs_not_accuracy": round(video_accuracy, 4)})  # fmt: skip
            print(rows[-1], flush=True)
    best = max(rows, key=lambda r: r["fer_realigned_accuracy"] + r["woman2_happy_vs_not_accuracy"])
    path = write_result("alignment_geometry", {
        "model": str(args.model), "fer_samples": len(pick), "fer_faces_detected": len(found),
        "fer_accuracy_on_original_crops": round(direct, 4),
        "woman2_frames": len(video_frames), "woman2_frames_detected": len(video_found),
        "rows": rows, "best": best, "command": "python -m bench.alignment_geometry",
    })  # fmt: skip
    print("best:", best)
    print(path)


if __name__ == "__main__":
    main()
