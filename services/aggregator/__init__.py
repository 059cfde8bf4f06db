"""The aggregator stage: track faces, smooth their emotions, build timelines and events.

Logic only; the stage's server entry point lives beside it.
"""

from emostream.aggregator.records import (
    EventType,
    FrameRecord,
    Segment,
    Timeline,
    TimelineEvent,
    TrackTimeline,
)
from emostream.aggregator.smoothing import EmotionSmoother, SmoothedEmotion, SmootherConfig, SmoothingMethod
from emostream.aggregator.timeline import FrameResult, TimelineBuilder, TimelineConfig
from emostream.aggregator.tracker import FaceTracker, TrackerConfig, TrackerUpdate, TrackState, TrackStatus

__all__ = [
    "EmotionSmoother",
    "EventType",
    "FaceTracker",
    "FrameRecord",
    "FrameResult",
    "Segment",
    "SmoothedEmotion",
    "SmootherConfig",
    "SmoothingMethod",
    "Timeline",
    "TimelineBuilder",
    "TimelineConfig",
    "TimelineEvent",
    "TrackState",
    "TrackStatus",
    "TrackTimeline",
    "TrackerConfig",
    "TrackerUpdate",
]
