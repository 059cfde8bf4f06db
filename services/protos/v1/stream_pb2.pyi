from emostream.protos.v1 import face_pb2 as _face_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_ENCODING_JPEG: _ClassVar[ImageEncoding]
    IMAGE_ENCODING_PNG: _ClassVar[ImageEncoding]
    IMAGE_ENCODING_RAW_BGR: _ClassVar[ImageEncoding]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_TRACK_STARTED: _ClassVar[EventType]
    EVENT_TYPE_TRACK_ENDED: _ClassVar[EventType]
    EVENT_TYPE_EMOTION_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_STREAM_ENDED: _ClassVar[EventType]
IMAGE_ENCODING_JPEG: ImageEncoding
IMAGE_ENCODING_PNG: ImageEncoding
IMAGE_ENCODING_RAW_BGR: ImageEncoding
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_TRACK_STARTED: EventType
EVENT_TYPE_TRACK_ENDED: EventType
EVENT_TYPE_EMOTION_CHANGED: EventType
EVENT_TYPE_STREAM_ENDED: EventType

class Frame(_message.Message):
    __slots__ = ("schema_version", "camera", "seq", "pts", "wall_time", "image", "width", "height", "end_of_stream", "encoding", "image_key", "live")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PTS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    END_OF_STREAM_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    camera: str
    seq: int
    pts: float
    wall_time: float
    image: bytes
    width: int
    height: int
    end_of_stream: bool
    encoding: ImageEncoding
    image_key: str
    live: bool
    def __init__(self, schema_version: _Optional[int] = ..., camera: _Optional[str] = ..., seq: _Optional[int] = ..., pts: _Optional[float] = ..., wall_time: _Optional[float] = ..., image: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., end_of_stream: _Optional[bool] = ..., encoding: _Optional[_Union[ImageEncoding, str]] = ..., image_key: _Optional[str] = ..., live: _Optional[bool] = ...) -> None: ...

class Detections(_message.Message):
    __slots__ = ("schema_version", "camera", "seq", "pts", "wall_time", "width", "height", "faces", "model_version", "end_of_stream", "thorough", "skipped", "live")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PTS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    END_OF_STREAM_FIELD_NUMBER: _ClassVar[int]
    THOROUGH_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    camera: str
    seq: int
    pts: float
    wall_time: float
    width: int
    height: int
    faces: _containers.RepeatedCompositeFieldContainer[_face_pb2.Face]
    model_version: str
    end_of_stream: bool
    thorough: bool
    skipped: bool
    live: bool
    def __init__(self, schema_version: _Optional[int] = ..., camera: _Optional[str] = ..., seq: _Optional[int] = ..., pts: _Optional[float] = ..., wall_time: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., faces: _Optional[_Iterable[_Union[_face_pb2.Face, _Mapping]]] = ..., model_version: _Optional[str] = ..., end_of_stream: _Optional[bool] = ..., thorough: _Optional[bool] = ..., skipped: _Optional[bool] = ..., live: _Optional[bool] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("schema_version", "camera", "type", "track_id", "seq", "pts", "wall_time", "label", "previous", "confidence", "id")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PTS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    camera: str
    type: EventType
    track_id: int
    seq: int
    pts: float
    wall_time: float
    label: str
    previous: str
    confidence: float
    id: str
    def __init__(self, schema_version: _Optional[int] = ..., camera: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., track_id: _Optional[int] = ..., seq: _Optional[int] = ..., pts: _Optional[float] = ..., wall_time: _Optional[float] = ..., label: _Optional[str] = ..., previous: _Optional[str] = ..., confidence: _Optional[float] = ..., id: _Optional[str] = ...) -> None: ...
