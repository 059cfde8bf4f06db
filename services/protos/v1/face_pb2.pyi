from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QualityFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_FLAG_UNSPECIFIED: _ClassVar[QualityFlag]
    QUALITY_FLAG_TOO_SMALL: _ClassVar[QualityFlag]
    QUALITY_FLAG_BLURRED: _ClassVar[QualityFlag]
    QUALITY_FLAG_TURNED: _ClassVar[QualityFlag]
    QUALITY_FLAG_CUT: _ClassVar[QualityFlag]
QUALITY_FLAG_UNSPECIFIED: QualityFlag
QUALITY_FLAG_TOO_SMALL: QualityFlag
QUALITY_FLAG_BLURRED: QualityFlag
QUALITY_FLAG_TURNED: QualityFlag
QUALITY_FLAG_CUT: QualityFlag

class Box(_message.Message):
    __slots__ = ("x1", "y1", "x2", "y2")
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    x1: float
    y1: float
    x2: float
    y2: float
    def __init__(self, x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Face(_message.Message):
    __slots__ = ("box", "score", "keypoints", "quality", "probabilities", "label", "confidence")
    BOX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    box: Box
    score: float
    keypoints: _containers.RepeatedCompositeFieldContainer[Point]
    quality: _containers.RepeatedScalarFieldContainer[QualityFlag]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    label: str
    confidence: float
    def __init__(self, box: _Optional[_Union[Box, _Mapping]] = ..., score: _Optional[float] = ..., keypoints: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., quality: _Optional[_Iterable[_Union[QualityFlag, str]]] = ..., probabilities: _Optional[_Iterable[float]] = ..., label: _Optional[str] = ..., confidence: _Optional[float] = ...) -> None: ...
