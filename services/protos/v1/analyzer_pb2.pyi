from emostream.protos.v1 import face_pb2 as _face_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnalyzeRequest(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    def __init__(self, image: _Optional[bytes] = ...) -> None: ...

class AnalyzeResponse(_message.Message):
    __slots__ = ("faces", "width", "height", "classes", "model_version")
    FACES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    faces: _containers.RepeatedCompositeFieldContainer[_face_pb2.Face]
    width: int
    height: int
    classes: _containers.RepeatedScalarFieldContainer[str]
    model_version: str
    def __init__(self, faces: _Optional[_Iterable[_Union[_face_pb2.Face, _Mapping]]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., classes: _Optional[_Iterable[str]] = ..., model_version: _Optional[str] = ...) -> None: ...
