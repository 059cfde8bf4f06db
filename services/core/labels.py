"""The emotion classes, in FER2013 order, everywhere in emostream."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013 class order: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral."""

EMOTIONS_6: tuple[str, ...] = ("angry", "fear", "happy", "sad", "surprise", "neutral")
"""The 6-class variant: Disgust merged into Angry."""

UNKNOWN = "unknown"
"""Label of a face that failed the quality checks: tracked, never forced into an emotion."""

SEVEN_TO_SIX: tuple[int, ...] = (0, 0, 1, 2, 3, 4, 5)
"""Index map from the 7-class order to the 6-class order."""


def class_names(num_classes: int) -> tuple[str, ...]:
    """The class names for a 7- or 6-class model."""
    if num_classes == 7:
        return EMOTIONS
    if num_classes == 6:
        return EMOTIONS_6
    raise ValueError(f"emostream models have 7 or 6 classes, not {num_classes}")
