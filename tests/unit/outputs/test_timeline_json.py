"""timeline.json: schema validity, determinism, rounding, options."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from emostream.outputs.timeline_json import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    dumps,
    timeline_to_dict,
    write_timeline_json,
)


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def test_output_validates_against_schema(timeline, source, model, schema, validate, tmp_path) -> None:
    path = write_timeline_json(tmp_path / "timeline.json", timeline, source, model)
    doc = json.loads(path.read_text())
    validate(schema, doc)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert [t["track_id"] for t in doc["tracks"]] == [1, 2]
    assert doc["summary"]["track_count"] == 2 and doc["source"]["camera"] == "cam0"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"schema_version": 1}, "not"),
        ({"extra": True}, "unexpected key"),
        (
            {
                "events": [
                    {
                        "type": "nope",
                        "track_id": 1,
                        "seq": 0,
                        "pts": 0.0,
                        "label": None,
                        "previous": None,
                        "confidence": None,
                    }
                ]
            },
            "not in",
        ),
    ],
)
def test_the_validator_catches_violations(timeline, source, model, schema, validate, bad, message) -> None:
    doc = timeline_to_dict(timeline, source, model) | bad
    with pytest.raises(AssertionError, match=message):
        validate(schema, doc)


def test_same_input_same_bytes_except_created_at(timeline, source, model, tmp_path) -> None:
    a = write_timeline_json(tmp_path / "a.json", timeline, source, model, created_at="2024-01-01T00:00:00+00:00")
    b = write_timeline_json(tmp_path / "b.json", timeline, source, model, created_at="2025-06-01T12:00:00+00:00")
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    assert da.pop("created_at") != db.pop("created_at")
    assert da == db
    c = write_timeline_json(tmp_path / "c.json", timeline, source, model, created_at="2024-01-01T00:00:00+00:00")
    assert a.read_bytes() == c.read_bytes()


def test_rebuilt_timeline_gives_identical_json(timeline_factory, source, model) -> None:
    docs = [dumps(timeline_to_dict(timeline_factory(), source, model, created_at="x")) for _ in range(2)]
    assert docs[0] == docs[1]


def test_rounding_and_nulls(timeline, source, model) -> None:
    doc = timeline_to_dict(timeline, source, model, created_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert doc["created_at"] == "2024-01-01T00:00:00+00:00"
    frames = doc["tracks"][0]["frames"]
    for f in frames:
        for p in (f["raw"] or []) + (f["smoothed"] or []):
            assert p == round(p, 4)
        if f["observed"]:
            assert f["keypoints"][4] == [None, None]  # NaN keypoints become null
    unknown = [f for f in frames if f["label"] == "unknown"]
    assert unknown and all(f["smoothed"] is None and f["quality"] == ["turned"] for f in unknown)
    predicted = [f for f in frames if not f["observed"]]
    assert predicted and all(f["raw"] is None and f["keypoints"] is None for f in predicted)
    assert "NaN" not in dumps(doc)


def test_track_summary_fields(timeline, source, model) -> None:
    track = timeline_to_dict(timeline, source, model)["tracks"][0]
    assert track["dominant_emotion"] == "happy"
    assert sum(track["emotion_share"].values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(s["frames"] for s in track["segments"]) == track["frame_count"] == len(track["frames"])


def test_frames_can_be_left_out(timeline, source, model) -> None:
    doc = timeline_to_dict(timeline, source, model, include_frames=False)
    assert all(t["frames"] == [] and t["segments"] for t in doc["tracks"])
