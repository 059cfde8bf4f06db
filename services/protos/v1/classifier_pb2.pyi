from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClassifyRequest(_message.Message):
    __slots__ = ("crops", "count", "height", "width")
    CROPS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    crops: bytes
    count: int
    height: int
    width: int
    def __init__(self, crops: _Optional[bytes] = ..., count: _Optional[int] = ..., height: _Optional[int] = ..., width: _Optional[int] = ...) -> None: ...

class ClassifyResponse(_message.Message):
    __slots__ = ("probabilities", "count", "num_classes", "model_version")
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NUM_CLASSES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    count: int
    num_classes: int
    model_version: str
    def __init__(self, probabilities: _Optional[_Iterable[float]] = ..., count: _Optional[int] = ..., num_classes: _Optional[int] = ..., model_version: _Optional[str] = ...) -> None: ...

class ModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InputSpec(_message.Message):
    __slots__ = ("height", "width", "channels", "dtype", "layout")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    LAYOUT_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    channels: int
    dtype: str
    layout: str
    def __init__(self, height: _Optional[int] = ..., width: _Optional[int] = ..., channels: _Optional[int] = ..., dtype: _Optional[str] = ..., layout: _Optional[str] = ...) -> None: ...

class ModelInfoResponse(_message.Message):
    __slots__ = ("name", "version", "classes", "input", "temperature", "providers", "max_batch", "max_crops_per_request")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_CROPS_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    classes: _containers.RepeatedScalarFieldContainer[str]
    input: InputSpec
    temperature: float
    providers: _containers.RepeatedScalarFieldContainer[str]
    max_batch: int
    max_crops_per_request: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., classes: _Optional[_Iterable[str]] = ..., input: _Optional[_Union[InputSpec, _Mapping]] = ..., temperature: _Optional[float] = ..., providers: _Optional[_Iterable[str]] = ..., max_batch: _Optional[int] = ..., max_crops_per_request: _Optional[int] = ...) -> None: ...
