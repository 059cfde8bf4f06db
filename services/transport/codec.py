"""Stream entries <-> protobuf messages <-> stage data types.

An entry holds one serialized message in the field ``keys.PAYLOAD_FIELD``; the message carries its
``schema_version``. Whatever cannot be read raises :class:`PayloadError`, whose ``reason`` is the
dead-letter reason (see :mod:`emostream.transport.dead_letter`). Never pickle.

    entry = encode_entry(frame_to_proto(frame, ImageEncoding.PNG))
    message = decode_frame(entry)          # stream_pb2.Frame, or PayloadError
    frame = frame_from_proto(message, image_from_proto(message))
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, TypeVar

import cv2
import numpy as np
from google.protobuf.message import DecodeError, Message

from emostream.core.errors import EmostreamError, ImageDecodeError
from emostream.core.images import MAX_PIXELS, decode_image
from emostream.core.protoconv import face_to_proto
from emostream.core.types import Frame, FrameDetections, FrameMeta
from emostream.protos.v1 import stream_pb2
from emostream.transport.dead_letter import DeadLetterReason
from emostream.transport.keys import PAYLOAD_FIELD

SCHEMA_VERSION = 1
SUPPORTED_SCHEMAS = frozenset({1})
Entry = Mapping[bytes | str, bytes | str]
M = TypeVar("M", bound=Message)


class ImageEncoding(IntEnum):
    """How a Frame's image travels: JPEG for live sources, lossless for replay."""

    JPEG = stream_pb2.IMAGE_ENCODING_JPEG
    PNG = stream_pb2.IMAGE_ENCODING_PNG
    RAW_BGR = stream_pb2.IMAGE_ENCODING_RAW_BGR


class PayloadError(EmostreamError):
    """A stream entry or its image could not be read; ``reason`` says why, for the dead-letter stream."""

    def __init__(self, reason: DeadLetterReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def encode_entry(message: Message) -> dict[str, bytes]:
    """The fields of a stream entry holding ``message``."""
    return {PAYLOAD_FIELD: message.SerializeToString()}


def _payload(fields: Entry) -> bytes:
    value = fields.get(PAYLOAD_FIELD.encode(), fields.get(PAYLOAD_FIELD))
    if value is None:
        raise PayloadError(DeadLetterReason.MISSING_PAYLOAD, f"entry has no {PAYLOAD_FIELD!r} field")
    return value.encode() if isinstance(value, str) else value


def _decode(fields: Entry, cls: type[M]) -> M:
    message = cls()
    try:
        message.ParseFromString(_payload(fields))
    except DecodeError as error:
        raise PayloadError(DeadLetterReason.MALFORMED, f"not a {cls.__name__} message ({error})") from error
    version = getattr(message, "schema_version", 0)
    if version not in SUPPORTED_SCHEMAS:
        raise PayloadError(
            DeadLetterReason.SCHEMA_VERSION,
            f"{cls.__name__} schema_version {version} is not one of {sorted(SUPPORTED_SCHEMAS)}",
        )
    return message


def decode_frame(fields: Entry) -> stream_pb2.Frame:
    message = _decode(fields, stream_pb2.Frame)
    if not message.camera:
        raise PayloadError(DeadLetterReason.MALFORMED, "Frame has no camera")
    return message


def decode_detections(fields: Entry) -> stream_pb2.Detections:
    return _decode(fields, stream_pb2.Detections)


def decode_event(fields: Entry) -> stream_pb2.Event:
    return _decode(fields, stream_pb2.Event)


# --- images ------------------------------------------------------------------------------------------------


def encode_image(image: np.ndarray, encoding: ImageEncoding, jpeg_quality: int = 90, png_level: int = 1) -> bytes:
    """BGR uint8 image -> bytes. PNG and RAW_BGR are lossless: the detector sees exactly these pixels."""
    if encoding == ImageEncoding.RAW_BGR:
        return np.ascontiguousarray(image, np.uint8).tobytes()
    if encoding == ImageEncoding.PNG:
        ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, png_level])
    else:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    if not ok:
        raise ValueError(f"cannot encode a {image.shape} image as {encoding.name}")
    return data.tobytes()


def decode_frame_image(
    message: stream_pb2.Frame, data: bytes | None = None, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """The frame's BGR image from ``data`` (a claim-checked blob) or ``message.image``; bounded decode."""
    data = message.image if data is None else data
    name = f"camera {message.camera} seq {message.seq}"
    if message.encoding == ImageEncoding.RAW_BGR:
        width, height = message.width, message.height
        if width * height > max_pixels:
            raise PayloadError(DeadLetterReason.BAD_IMAGE, f"{name}: {width}x{height} is over the pixel limit")
        if width == 0 or height == 0 or len(data) != width * height * 3:
            raise PayloadError(
                DeadLetterReason.BAD_IMAGE, f"{name}: {len(data)} raw bytes do not make a {width}x{height} image"
            )
        return np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()
    if message.encoding not in (ImageEncoding.JPEG, ImageEncoding.PNG):
        raise PayloadError(DeadLetterReason.BAD_IMAGE, f"{name}: unknown image encoding {message.encoding}")
    try:
        return decode_image(data, name, max_pixels)
    except ImageDecodeError as error:
        raise PayloadError(DeadLetterReason.BAD_IMAGE, str(error)) from error


# --- frames ------------------------------------------------------------------------------------------------


def frame_to_proto(frame: Frame, encoding: ImageEncoding, image: bytes | None = None) -> stream_pb2.Frame:
    """A Frame message; ``image`` is the already encoded image (None: encode it here)."""
    meta = frame.meta
    return stream_pb2.Frame(
        schema_version=SCHEMA_VERSION,
        camera=meta.camera,
        seq=meta.seq,
        pts=meta.pts,
        wall_time=meta.wall_time,
        image=encode_image(frame.image, encoding) if image is None else image,
        width=meta.width,
        height=meta.height,
        encoding=int(encoding),
    )


def end_of_stream_frame(camera: str, seq: int, pts: float, wall_time: float) -> stream_pb2.Frame:
    """The entry after a replayed source's last frame (``seq``: one past the last frame's)."""
    return stream_pb2.Frame(
        schema_version=SCHEMA_VERSION, camera=camera, seq=seq, pts=pts, wall_time=wall_time, end_of_stream=True
    )


def frame_from_proto(message: stream_pb2.Frame, image: np.ndarray) -> Frame:
    meta = FrameMeta(message.camera, message.seq, message.pts, message.wall_time, image.shape[1], image.shape[0])
    return Frame(meta, image)


# --- detections --------------------------------------------------------------------------------------------


def detections_to_proto(
    detections: FrameDetections, classes: tuple[str, ...], model_version: str, thorough: bool
) -> stream_pb2.Detections:
    """What the detector stage found in one frame, as a Detections message."""
    meta = detections.meta
    return stream_pb2.Detections(
        schema_version=SCHEMA_VERSION,
        camera=meta.camera,
        seq=meta.seq,
        pts=meta.pts,
        wall_time=meta.wall_time,
        width=meta.width,
        height=meta.height,
        faces=[face_to_proto(face, classes) for face in detections.faces],
        model_version=model_version,
        thorough=thorough,
    )


def _detections_of(frame: stream_pb2.Frame, **fields: Any) -> stream_pb2.Detections:
    """A Detections entry with ``frame``'s header (camera, seq, times, size) and ``fields``, no faces."""
    return stream_pb2.Detections(
        schema_version=SCHEMA_VERSION,
        camera=frame.camera,
        seq=frame.seq,
        pts=frame.pts,
        wall_time=frame.wall_time,
        width=frame.width,
        height=frame.height,
        **fields,
    )


def skipped_detections(frame: stream_pb2.Frame) -> stream_pb2.Detections:
    """A live Frame the detector skipped unprocessed (a newer one was waiting): no faces, not observed."""
    return _detections_of(frame, skipped=True, live=frame.live)


def end_of_stream_detections(frame: stream_pb2.Frame, model_version: str) -> stream_pb2.Detections:
    """The end-of-stream Frame, forwarded to the aggregator."""
    return _detections_of(frame, model_version=model_version, end_of_stream=True)
