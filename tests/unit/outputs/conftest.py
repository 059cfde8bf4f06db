"""A small synthetic timeline (two tracks, emotion changes, unknown frames, a skipped detection) for the writers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from emostream.aggregator import SmootherConfig, Timeline, TimelineBuilder, TimelineConfig
from emostream.core.labels import EMOTIONS
from emostream.core.types import (
    AlignedFace,
    Box,
    ClassifiedFace,
    FaceDetection,
    FrameDetections,
    FrameMeta,
    QualityFlag,
)
from emostream.outputs.timeline_json import ModelInfo, SourceInfo

FPS, WIDTH, HEIGHT, FRAMES = 25.0, 320, 240, 40


def _face(cx: float, cy: float, label: str | None, size: float = 50.0) -> ClassifiedFace:
    kps = np.array([[cx - 10, cy - 8], [cx + 10, cy - 8], [cx, cy], [cx, cy + 12], [np.nan, np.nan], [cx + 22, cy]])
    det = FaceDetection(Box(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2), 0.93, kps.astype(np.float32))
    quality = frozenset({QualityFlag.TURNED}) if label is None else frozenset()
    probs = None
    if label is not None:
        probs = np.full(7, 0.05, np.float32)
        probs[EMOTIONS.index(label)] = 0.7
    return ClassifiedFace(AlignedFace(det, np.zeros((48, 48), np.uint8), quality), probs)


def build_timeline() -> Timeline:
    builder = TimelineBuilder(TimelineConfig(smoother=SmootherConfig(tau_s=0.1, min_hold_ms=100)))
    for i in range(FRAMES):
        a = _face(60 + 2 * i, 80, "happy" if i < 20 else ("neutral" if i > 24 else None))
        b = _face(250, 170 - i, "sad" if i % 13 else "surprise", size=60)
        meta = FrameMeta("cam0", i, i / FPS, 1_700_000_000.0 + i / FPS, WIDTH, HEIGHT)
        builder.update(FrameDetections(meta, (a, b) if i < 35 else (a,)), detected=i % 10 != 9)
    return builder.finish()


@pytest.fixture
def timeline() -> Timeline:
    return build_timeline()


@pytest.fixture
def timeline_factory() -> Callable[[], Timeline]:
    """Builds the synthetic timeline afresh on every call."""
    return build_timeline


@pytest.fixture
def geometry() -> tuple[float, int, int]:
    """(fps, width, height) of the synthetic source."""
    return FPS, WIDTH, HEIGHT


@pytest.fixture
def source() -> SourceInfo:
    return SourceInfo("synthetic.mp4", FPS, FRAMES, WIDTH, HEIGHT)


@pytest.fixture
def model() -> ModelInfo:
    return ModelInfo("fer-cnn", "0.1.0", EMOTIONS)


def _check(schema: dict[str, Any], value: Any, root: dict[str, Any], where: str) -> None:
    """Validate the JSON Schema keywords timeline.schema.json uses (no third-party validator needed)."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        py = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
        ok = any(
            (n == "integer" and isinstance(value, int) and not isinstance(value, bool))
            or (n == "number" and isinstance(value, int | float) and not isinstance(value, bool))
            or (n in py and isinstance(value, py[n]))
            for n in names
        )
        assert ok, f"{where}: {value!r} is not {names}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value), f"{where}: {value} < minimum"
        assert value <= schema.get("maximum", value), f"{where}: {value} > maximum"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                _check(props[key], item, root, f"{where}.{key}")
            elif extra is False:
                raise AssertionError(f"{where}: unexpected key {key}")
            elif isinstance(extra, dict):
                _check(extra, item, root, f"{where}.{key}")
    if isinstance(value, list):
        assert len(value) >= schema.get("minItems", 0), f"{where}: too few items"
        assert len(value) <= schema.get("maxItems", len(value)), f"{where}: too many items"
        if "items" in schema:
            for i, item in enumerate(value):
                _check(schema["items"], item, root, f"{where}[{i}]")


@pytest.fixture
def validate() -> Callable[[dict[str, Any], Any], None]:
    """``validate(schema, document)`` raises AssertionError naming the first violation."""
    return lambda schema, doc: _check(schema, doc, schema, "$")
