"""Conversions between the stage data types (``emostream.core.types``) and their protobuf messages."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from emostream.core.labels import UNKNOWN
from emostream.core.types import Box, ClassifiedFace, QualityFlag
from emostream.protos.v1 import face_pb2

QUALITY_TO_PROTO: dict[QualityFlag, int] = {
    QualityFlag.TOO_SMALL: face_pb2.QUALITY_FLAG_TOO_SMALL,
    QualityFlag.BLURRED: face_pb2.QUALITY_FLAG_BLURRED,
    QualityFlag.TURNED: face_pb2.QUALITY_FLAG_TURNED,
    QualityFlag.CUT: face_pb2.QUALITY_FLAG_CUT,
}
QUALITY_FROM_PROTO: dict[int, QualityFlag] = {value: flag for flag, value in QUALITY_TO_PROTO.items()}


def box_to_proto(box: Box) -> face_pb2.Box:
    return face_pb2.Box(x1=box.x1, y1=box.y1, x2=box.x2, y2=box.y2)


def box_from_proto(box: face_pb2.Box) -> Box:
    return Box(box.x1, box.y1, box.x2, box.y2)


def quality_from_proto(values: Iterable[int]) -> frozenset[QualityFlag]:
    """Flags from their enum values (unknown values, from a newer schema, are skipped)."""
    return frozenset(QUALITY_FROM_PROTO[v] for v in values if v in QUALITY_FROM_PROTO)


def face_to_proto(face: ClassifiedFace, classes: tuple[str, ...]) -> face_pb2.Face:
    """A classified face as a ``Face`` message; keypoints keep their index (NaN where missing)."""
    detection = face.face.detection
    message = face_pb2.Face(
        box=box_to_proto(detection.box),
        score=detection.score,
        keypoints=[face_pb2.Point(x=float(x), y=float(y)) for x, y in np.asarray(detection.keypoints).reshape(-1, 2)],
        quality=sorted(QUALITY_TO_PROTO[flag] for flag in face.face.quality),
        label=UNKNOWN,
    )
    if face.probabilities is not None:
        best = int(np.argmax(face.probabilities))
        message.probabilities.extend(float(p) for p in face.probabilities)
        message.label = classes[best]
        message.confidence = float(face.probabilities[best])
    return message
