"""The real detector on the real photos and the 1080p crowd clip (../shared/data, read in place).

The bar from the issue: on each photo at most one face missed and no false positive; on the
1080p crowd, faces found on a middle frame by the thorough pass and still followed by the fast one.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emostream.detector.align import FaceAligner
from emostream.detector.blazeface import BlazeFaceConfig, BlazeFaceDetector
from emostream.detector.cascade import CascadeDetector

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
if not DATA.is_dir():
    pytest.skip(f"real data not found at {DATA} (the shared data folder beside the repo)", allow_module_level=True)

# Faces counted by eye (images/README.md), and real faces the count leaves out.
PHOTOS = {
    "facenet_multiface.jpg": (6, 0),
    "deepface_selfie_many_people.jpg": (7, 0),  # 2 cut off at the left edge, 1 partly hidden
    "pyfeat_multi_face.jpg": (5, 0),
    "deepface_couple.jpg": (2, 0),
    "fr_two_people.jpg": (2, 0),
    "fr_obama_and_biden.jpg": (2, 1),  # "plus a partly visible child in the background"
    "fer_justin.jpg": (1, 0),
    "pyfeat_single_face.jpg": (1, 0),
    "pyfeat_0-f1-su-ph.jpg": (1, 0),
}


@pytest.fixture(scope="module")
def cascade() -> CascadeDetector:
    return CascadeDetector()


def read(name: str) -> np.ndarray:
    image = cv2.imread(str(DATA / "images" / name))
    assert image is not None, name
    return image


@pytest.mark.parametrize(("name", "expected"), PHOTOS.items())
def test_photo_counts_within_the_bar(cascade: CascadeDetector, name: str, expected: tuple[int, int]) -> None:
    by_eye, extra_ok = expected
    found = cascade.detect(read(name), thorough=True)
    assert by_eye - 1 <= len(found) <= by_eye + extra_ok, [round(f.box.width) for f in found]


@pytest.mark.parametrize("name", ["fr_two_people.jpg", "pyfeat_multi_face.jpg", "fer_justin.jpg"])
def test_keypoint_order_and_usable_crops(cascade: CascadeDetector, name: str) -> None:
    image = read(name)
    fast = BlazeFaceDetector(BlazeFaceConfig(variant="full"))
    for faces in (cascade.detect(image, thorough=True), fast.detect(image)):
        assert faces
        for face in faces:  # subject's right eye first, on the image's left; nose below the eyes
            assert face.keypoints[0, 0] < face.keypoints[1, 0]
            assert face.keypoints[2, 1] > face.keypoints[:2, 1].max()
        assert all(np.isfinite(f.keypoints).all() for f in faces)  # thorough faces refined by BlazeFace
        aligned = FaceAligner().align(image, faces)
        assert all(a.usable for a in aligned), [sorted(a.quality) for a in aligned]


def test_crowd_1080p_middle_frame(cascade: CascadeDetector) -> None:
    cap = cv2.VideoCapture(str(DATA / "videos" / "facenet_video.mp4"))
    middle = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) // 2
    cap.set(cv2.CAP_PROP_POS_FRAMES, middle)
    ok1, frame = cap.read()
    ok2, following = cap.read()
    cap.release()
    assert ok1 and ok2 and frame.shape[:2] == (1080, 1920)
    cascade.reset()
    thorough = cascade.detect(frame, thorough=True)
    assert len(thorough) >= 3
    assert min(f.box.width for f in thorough) <= 60  # small faces are among them
    followed = cascade.detect(following, thorough=False)
    assert len(followed) >= 3
