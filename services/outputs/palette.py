"""Colours shared by the annotated video and the timeline plot, so an emotion looks the same in both.

Example:
    >>> emotion_rgb("happy")
    '#f2b701'
    >>> emotion_bgr("angry")
    (40, 39, 214)
"""

from __future__ import annotations

from emostream.core.labels import UNKNOWN

EMOTION_COLOURS: dict[str, str] = {
    "angry": "#d62728",
    "disgust": "#6b8e23",
    "fear": "#9467bd",
    "happy": "#f2b701",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#8c8c8c",
    UNKNOWN: "#d9d9d9",
}
"""Hex RGB per class name (colour-blind-friendly where it matters: happy/sad/angry differ in hue and value)."""

TRACK_COLOURS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
)  # fmt: skip
"""Hex RGB cycled by track id (tab10)."""

_FALLBACK = "#444444"


def emotion_rgb(label: str) -> str:
    """Hex RGB of a class name (grey for a name outside the palette)."""
    return EMOTION_COLOURS.get(label, _FALLBACK)


def _bgr(hex_rgb: str) -> tuple[int, int, int]:
    value = int(hex_rgb.lstrip("#"), 16)
    return (value & 0xFF, (value >> 8) & 0xFF, value >> 16)


def emotion_bgr(label: str) -> tuple[int, int, int]:
    """OpenCV BGR tuple of a class name."""
    return _bgr(emotion_rgb(label))


def track_bgr(track_id: int) -> tuple[int, int, int]:
    """OpenCV BGR tuple of a track id (ids start at 1)."""
    return _bgr(TRACK_COLOURS[(track_id - 1) % len(TRACK_COLOURS)])
