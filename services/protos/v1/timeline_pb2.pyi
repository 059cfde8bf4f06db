from emostream.protos.v1 import face_pb2 as _face_pb2
from emostream.protos.v1 import stream_pb2 as _stream_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Camera(_message.Message):
    __slots__ = ("name", "frames", "first_pts", "last_pts", "last_wall_time", "active_tracks", "ended")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    FIRST_PTS_FIELD_NUMBER: _ClassVar[int]
    LAST_PTS_FIELD_NUMBER: _ClassVar[int]
    LAST_WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_TRACKS_FIELD_NUMBER: _ClassVar[int]
    ENDED_FIELD_NUMBER: _ClassVar[int]
    name: str
    frames: int
    first_pts: float
    last_pts: float
    last_wall_time: float
    active_tracks: int
    ended: bool
    def __init__(self, name: _Optional[str] = ..., frames: _Optional[int] = ..., first_pts: _Optional[float] = ..., last_pts: _Optional[float] = ..., last_wall_time: _Optional[float] = ..., active_tracks: _Optional[int] = ..., ended: _Optional[bool] = ...) -> None: ...

class ListCamerasRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCamerasResponse(_message.Message):
    __slots__ = ("cameras",)
    CAMERAS_FIELD_NUMBER: _ClassVar[int]
    cameras: _containers.RepeatedCompositeFieldContainer[Camera]
    def __init__(self, cameras: _Optional[_Iterable[_Union[Camera, _Mapping]]] = ...) -> None: ...

class TrackSummary(_message.Message):
    __slots__ = ("camera", "track_id", "first_seq", "last_seq", "first_pts", "last_pts", "frame_count", "label", "active")
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    FIRST_PTS_FIELD_NUMBER: _ClassVar[int]
    LAST_PTS_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    camera: str
    track_id: int
    first_seq: int
    last_seq: int
    first_pts: float
    last_pts: float
    frame_count: int
    label: str
    active: bool
    def __init__(self, camera: _Optional[str] = ..., track_id: _Optional[int] = ..., first_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., first_pts: _Optional[float] = ..., last_pts: _Optional[float] = ..., frame_count: _Optional[int] = ..., label: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ListTracksRequest(_message.Message):
    __slots__ = ("camera", "active_only", "page_size", "page_token")
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    camera: str
    active_only: bool
    page_size: int
    page_token: str
    def __init__(self, camera: _Optional[str] = ..., active_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTracksResponse(_message.Message):
    __slots__ = ("tracks", "next_page_token")
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tracks: _containers.RepeatedCompositeFieldContainer[TrackSummary]
    next_page_token: str
    def __init__(self, tracks: _Optional[_Iterable[_Union[TrackSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("label", "start_seq", "end_seq", "start_pts", "end_pts", "frames", "mean_confidence")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    START_SEQ_FIELD_NUMBER: _ClassVar[int]
    END_SEQ_FIELD_NUMBER: _ClassVar[int]
    START_PTS_FIELD_NUMBER: _ClassVar[int]
    END_PTS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    label: str
    start_seq: int
    end_seq: int
    start_pts: float
    end_pts: float
    frames: int
    mean_confidence: float
    def __init__(self, label: _Optional[str] = ..., start_seq: _Optional[int] = ..., end_seq: _Optional[int] = ..., start_pts: _Optional[float] = ..., end_pts: _Optional[float] = ..., frames: _Optional[int] = ..., mean_confidence: _Optional[float] = ...) -> None: ...

class TrackFrame(_message.Message):
    __slots__ = ("seq", "pts", "box", "score", "quality", "smoothed", "label", "confidence", "observed", "raw", "keypoints")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PTS_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SMOOTHED_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    pts: float
    box: _face_pb2.Box
    score: float
    quality: _containers.RepeatedScalarFieldContainer[_face_pb2.QualityFlag]
    smoothed: _containers.RepeatedScalarFieldContainer[float]
    label: str
    confidence: float
    observed: bool
    raw: _containers.RepeatedScalarFieldContainer[float]
    keypoints: _containers.RepeatedCompositeFieldContainer[_face_pb2.Point]
    def __init__(self, seq: _Optional[int] = ..., pts: _Optional[float] = ..., box: _Optional[_Union[_face_pb2.Box, _Mapping]] = ..., score: _Optional[float] = ..., quality: _Optional[_Iterable[_Union[_face_pb2.QualityFlag, str]]] = ..., smoothed: _Optional[_Iterable[float]] = ..., label: _Optional[str] = ..., confidence: _Optional[float] = ..., observed: _Optional[bool] = ..., raw: _Optional[_Iterable[float]] = ..., keypoints: _Optional[_Iterable[_Union[_face_pb2.Point, _Mapping]]] = ...) -> None: ...

class TrackTimeline(_message.Message):
    __slots__ = ("track", "segments", "frames")
    TRACK_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    track: TrackSummary
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    frames: _containers.RepeatedCompositeFieldContainer[TrackFrame]
    def __init__(self, track: _Optional[_Union[TrackSummary, _Mapping]] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., frames: _Optional[_Iterable[_Union[TrackFrame, _Mapping]]] = ...) -> None: ...

class GetTimelineRequest(_message.Message):
    __slots__ = ("camera", "track_id", "include_frames", "start_pts", "end_pts")
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FRAMES_FIELD_NUMBER: _ClassVar[int]
    START_PTS_FIELD_NUMBER: _ClassVar[int]
    END_PTS_FIELD_NUMBER: _ClassVar[int]
    camera: str
    track_id: int
    include_frames: bool
    start_pts: float
    end_pts: float
    def __init__(self, camera: _Optional[str] = ..., track_id: _Optional[int] = ..., include_frames: _Optional[bool] = ..., start_pts: _Optional[float] = ..., end_pts: _Optional[float] = ...) -> None: ...

class GetTimelineResponse(_message.Message):
    __slots__ = ("camera", "classes", "tracks")
    CAMERA_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    camera: str
    classes: _containers.RepeatedScalarFieldContainer[str]
    tracks: _containers.RepeatedCompositeFieldContainer[TrackTimeline]
    def __init__(self, camera: _Optional[str] = ..., classes: _Optional[_Iterable[str]] = ..., tracks: _Optional[_Iterable[_Union[TrackTimeline, _Mapping]]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("cameras", "after_id", "types")
    CAMERAS_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    cameras: _containers.RepeatedScalarFieldContainer[str]
    after_id: str
    types: _containers.RepeatedScalarFieldContainer[_stream_pb2.EventType]
    def __init__(self, cameras: _Optional[_Iterable[str]] = ..., after_id: _Optional[str] = ..., types: _Optional[_Iterable[_Union[_stream_pb2.EventType, str]]] = ...) -> None: ...
