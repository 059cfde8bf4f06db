"""Stream entries <-> messages <-> stage types: lossless where it must be, specific errors where it cannot."""

from __future__ import annotations

import numpy as np
import pytest

from emostream.core.labels import EMOTIONS
from emostream.core.types import (
    AlignedFace,
    Box,
    ClassifiedFace,
    FaceDetection,
    Frame,
    FrameDetections,
    FrameMeta,
    QualityFlag,
)
from emostream.protos.v1 import stream_pb2
from emostream.transport.codec import (
    SCHEMA_VERSION,
    ImageEncoding,
    PayloadError,
    decode_detections,
    decode_frame,
    decode_frame_image,
    detections_to_proto,
    encode_entry,
    end_of_stream_detections,
    end_of_stream_frame,
    frame_from_proto,
    frame_to_proto,
    skipped_detections,
)
from emostream.transport.dead_letter import DeadLetterReason
from emostream.transport.keys import PAYLOAD_FIELD


def _frame(seed: int = 0, shape: tuple[int, int] = (36, 52)) -> Frame:
    image = np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)
    return Frame(FrameMeta("cam1", 7, 0.25, 1700000000.5, shape[1], shape[0]), image)


def _as_redis(entry: dict[str, bytes]) -> dict[bytes, bytes]:
    return {key.encode(): value for key, value in entry.items()}


@pytest.mark.parametrize("encoding", [ImageEncoding.PNG, ImageEncoding.RAW_BGR])
def test_lossless_encodings_give_back_the_same_pixels(encoding: ImageEncoding) -> None:
    frame = _frame()
    message = decode_frame(_as_redis(encode_entry(frame_to_proto(frame, encoding))))
    back = frame_from_proto(message, decode_frame_image(message))
    assert np.array_equal(back.image, frame.image)
    assert back.meta == frame.meta


def test_jpeg_is_close_but_lossy() -> None:
    frame = _frame(shape=(64, 64))
    frame = Frame(frame.meta, np.full_like(frame.image, 120))
    message = frame_to_proto(frame, ImageEncoding.JPEG)
    image = decode_frame_image(message)
    assert image.shape == frame.image.shape
    assert np.abs(image.astype(int) - 120).max() <= 2


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({b"other": b"x"}, DeadLetterReason.MISSING_PAYLOAD),
        ({PAYLOAD_FIELD.encode(): b"\xff\xff\xff garbage"}, DeadLetterReason.MALFORMED),
        ({PAYLOAD_FIELD.encode(): stream_pb2.Frame(camera="c").SerializeToString()}, DeadLetterReason.SCHEMA_VERSION),
        (
            {PAYLOAD_FIELD.encode(): stream_pb2.Frame(schema_version=99, camera="c").SerializeToString()},
            DeadLetterReason.SCHEMA_VERSION,
        ),
        ({PAYLOAD_FIELD.encode(): stream_pb2.Frame(schema_version=1).SerializeToString()}, DeadLetterReason.MALFORMED),
    ],
)
def test_unreadable_entries_raise_payload_error_with_their_reason(
    fields: dict[bytes, bytes], reason: DeadLetterReason
) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_frame(fields)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "message",
    [
        stream_pb2.Frame(schema_version=1, camera="c", image=b"not an image", encoding=stream_pb2.IMAGE_ENCODING_PNG),
        stream_pb2.Frame(schema_version=1, camera="c", image=b"", encoding=stream_pb2.IMAGE_ENCODING_JPEG),
        stream_pb2.Frame(schema_version=1, camera="c", image=b"abc", width=2, height=2,
                         encoding=stream_pb2.IMAGE_ENCODING_RAW_BGR),
        stream_pb2.Frame(schema_version=1, camera="c", image=b"", width=100_000, height=100_000,
                         encoding=stream_pb2.IMAGE_ENCODING_RAW_BGR),
    ],
)  # fmt: skip
def test_bad_images_are_bad_image(message: stream_pb2.Frame) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_frame_image(message)
    assert caught.value.reason == DeadLetterReason.BAD_IMAGE


def test_detections_carry_every_face_field() -> None:
    detection = FaceDetection(Box(1.5, 2.5, 30.25, 40.75), 0.875, np.arange(12, dtype=np.float32).reshape(6, 2))
    crop = np.zeros((48, 48), np.uint8)
    usable = ClassifiedFace(AlignedFace(detection, crop), np.eye(7, dtype=np.float32)[3])
    flagged = ClassifiedFace(AlignedFace(detection, crop, frozenset({QualityFlag.BLURRED})), None)
    meta = FrameMeta("cam1", 12, 0.4, 1700000000.0, 640, 360)
    message = detections_to_proto(FrameDetections(meta, (usable, flagged)), EMOTIONS, "3", thorough=True)
    back = decode_detections(_as_redis(encode_entry(message)))
    assert (back.schema_version, back.camera, back.seq) == (SCHEMA_VERSION, "cam1", 12)
    assert (back.width, back.height) == (640, 360)
    assert back.model_version == "3" and back.thorough and not back.end_of_stream
    assert back.faces[0].label == "happy" and back.faces[0].confidence == 1.0
    assert list(back.faces[0].probabilities) == [0, 0, 0, 1, 0, 0, 0]
    assert back.faces[1].label == "unknown" and not back.faces[1].probabilities
    assert (back.faces[0].box.x1, back.faces[0].box.y2) == (1.5, 40.75)


def test_end_of_stream_is_forwarded_as_detections() -> None:
    frame = decode_frame(_as_redis(encode_entry(end_of_stream_frame("cam1", 464, 15.5, 1.0))))
    assert frame.end_of_stream and not frame.image
    detections = end_of_stream_detections(frame, "3")
    assert detections.end_of_stream and detections.seq == 464 and detections.camera == "cam1"


def test_a_skipped_live_frame_becomes_detections_without_faces() -> None:
    frame = stream_pb2.Frame(schema_version=SCHEMA_VERSION, camera="cam1", seq=7, pts=0.25, wall_time=5.0,
                             image=b"jpeg", width=1280, height=720, live=True)  # fmt: skip
    detections = decode_detections(_as_redis(encode_entry(skipped_detections(frame))))
    assert detections.skipped and detections.live and not detections.faces and not detections.end_of_stream
    assert (detections.camera, detections.seq, detections.pts, detections.wall_time) == ("cam1", 7, 0.25, 5.0)
    assert (detections.width, detections.height) == (1280, 720)
