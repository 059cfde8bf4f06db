"""Every Redis key emostream uses, behind one set of functions.

A camera's keys share the hash tag ``{camera}``, so on Redis Cluster a camera's frames,
detections, events and timeline live on one shard: moving to a cluster is a configuration change.
"""

from __future__ import annotations

PREFIX = "emostream"
PAYLOAD_FIELD = "pb"  # each stream entry holds one protobuf message in this field
DEAD_LETTER_STREAM = f"{PREFIX}:dead"
DETECTOR_GROUP = "detector"
AGGREGATOR_GROUP = "aggregator"
CAMERAS_KEY = f"{PREFIX}:cameras"  # a set of the camera names seen


def _tag(camera: str) -> str:
    if not camera or any(char in camera for char in "{}:\n\r\t "):
        raise ValueError(f"camera name {camera!r} must be non-empty, without spaces, braces or colons")
    return "{" + camera + "}"


def frames_stream(camera: str) -> str:
    return f"{PREFIX}:frames:{_tag(camera)}"


def detections_stream(camera: str) -> str:
    return f"{PREFIX}:detections:{_tag(camera)}"


def events_stream(camera: str) -> str:
    return f"{PREFIX}:events:{_tag(camera)}"


def timeline_key(camera: str, suffix: str) -> str:
    """Keys of the aggregator's persisted state for one camera, e.g. ``timeline_key(cam, "tracks")``."""
    return f"{PREFIX}:timeline:{_tag(camera)}:{suffix}"


def camera_from_stream(key: str) -> str:
    """The camera of a frames/detections/events stream key."""
    start, end = key.find("{"), key.rfind("}")
    if start < 0 or end <= start:
        raise ValueError(f"{key!r} is not an emostream camera key")
    return key[start + 1 : end]


def image_key(camera: str, seq: int, nonce: str) -> str:
    """Claim check: where a large frame image waits (with a TTL) for the detector; ``nonce`` tells runs apart."""
    return f"{PREFIX}:image:{_tag(camera)}:{seq}:{nonce}"


def frames_pattern() -> str:
    """SCAN pattern matching every camera's frames stream."""
    return f"{PREFIX}:frames:*"
