"""``emostream analyze PHOTO|DIR ...``: every face in each photo with its seven probabilities."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from emostream.aggregator.records import FrameRecord
from emostream.commands.common import add_pipeline_arguments, fail, settings_from
from emostream.components import build_stage
from emostream.core.errors import EmostreamError
from emostream.core.images import read_image
from emostream.core.labels import UNKNOWN
from emostream.core.types import ClassifiedFace
from emostream.detector.stage import DetectorStage
from emostream.outputs.annotated_video import draw_faces

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("analyze", help="faces and emotions in photos", description=__doc__)
    parser.add_argument("paths", type=Path, nargs="+", help="image files or folders of images")
    parser.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    parser.add_argument("--draw", type=Path, help="folder to write the images with boxes and bar graphs")
    add_pipeline_arguments(parser)
    parser.set_defaults(handler=run)


def face_record(face: ClassifiedFace, classes: tuple[str, ...]) -> dict[str, object]:
    detection = face.face.detection
    keypoints = [[round(float(v), 1) for v in point] for point in detection.keypoints if np.isfinite(point).all()]
    record: dict[str, object] = {
        "box": detection.box.as_list(),
        "score": round(detection.score, 4),
        "keypoints": keypoints,
        "quality": sorted(flag.value for flag in face.face.quality),
    }
    if face.probabilities is None:
        record |= {"label": UNKNOWN, "confidence": 0.0, "probabilities": None}
    else:
        best = int(np.argmax(face.probabilities))
        record |= {
            "label": classes[best],
            "confidence": round(float(face.probabilities[best]), 4),
            "probabilities": {name: round(float(p), 4) for name, p in zip(classes, face.probabilities, strict=True)},
        }
    return record


def analyze_image(stage: DetectorStage, image: np.ndarray) -> tuple[ClassifiedFace, ...]:
    return stage.classify(stage.faces(image, thorough=True))


def _images(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def _overlay(faces: tuple[ClassifiedFace, ...], classes: tuple[str, ...]) -> list[tuple[int, FrameRecord]]:
    overlay = []
    for number, face in enumerate(faces, start=1):
        probs = face.probabilities
        label = UNKNOWN if probs is None else classes[int(np.argmax(probs))]
        confidence = 0.0 if probs is None else float(np.max(probs))
        detection = face.face.detection
        record = FrameRecord(0, 0.0, detection.box, detection.score, detection.keypoints, face.face.quality,
                             probs, probs, label, confidence)  # fmt: skip
        overlay.append((number, record))
    return overlay


def run(args: argparse.Namespace) -> int:
    try:
        stage = build_stage(settings_from(args))
    except EmostreamError as error:
        return fail(str(error))
    classes = stage.classifier.info.classes
    failures = 0
    for path in _images(args.paths):
        try:
            image = read_image(path)
        except EmostreamError as error:
            fail(str(error))
            failures += 1
            continue
        faces = analyze_image(stage, image)
        records = [face_record(face, classes) for face in faces]
        if args.json:
            print(json.dumps({"image": str(path), "width": image.shape[1], "height": image.shape[0],
                              "faces": records}, sort_keys=True))  # fmt: skip
        else:
            print(f"{path}: {len(records)} face(s)")
            for number, record in enumerate(records, start=1):
                probs = record["probabilities"]
                detail = "" if probs is None else "  " + " ".join(f"{k}={v:.2f}" for k, v in probs.items())  # type: ignore[attr-defined]
                print(f"  #{number} {record['label']} {record['confidence']:.0%} box={record['box']}{detail}")
        if args.draw:
            args.draw.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.draw / f"{path.stem}.jpg"), draw_faces(image, _overlay(faces, classes), classes))
    return 1 if failures else 0
