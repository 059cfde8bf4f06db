"""Why capture lost a frame: the ``reason`` label of ``emostream_frames_dropped_total``, one name each."""

from __future__ import annotations

from enum import StrEnum


class DropReason(StrEnum):
    """Every reason capture drops a frame; each is exported (at 0 from the start) for every camera."""

    CONSUMER_SLOW = "consumer_slow"  # live: a newer frame replaced it before anyone read it
    READ_FAILED = "read_failed"  # live: the source returned no image
    STREAM_FULL = "stream_full"  # live: trimmed from the capped stream unread
    REDIS_UNAVAILABLE = "redis_unavailable"  # Redis was away when the frame was published
