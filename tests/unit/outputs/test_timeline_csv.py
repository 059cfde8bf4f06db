"""timeline.csv: header, one row per track per frame, empty cells for missing probabilities."""

from __future__ import annotations

import csv

import pytest

from emostream.core.labels import EMOTIONS
from emostream.outputs.timeline_csv import header, write_timeline_csv


def test_rows_per_track_per_frame(timeline, tmp_path) -> None:
    path = write_timeline_csv(tmp_path / "timeline.csv", timeline)
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(t.frames) for t in timeline.tracks)
    keys = [(int(r["track_id"]), int(r["seq"])) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert list(rows[0]) == header(EMOTIONS)


@pytest.mark.parametrize(
    ("label", "raw_empty", "smoothed_empty"),
    [("happy", False, False), ("unknown", True, True)],
)
def test_probability_cells(timeline, tmp_path, label, raw_empty, smoothed_empty) -> None:
    path = write_timeline_csv(tmp_path / "timeline.csv", timeline)
    with path.open(newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["label"] == label and r["observed"] == "1")
    assert (row["raw_happy"] == "") is raw_empty
    assert (row["smoothed_happy"] == "") is smoothed_empty
    if not smoothed_empty:
        assert sum(float(row[f"smoothed_{c}"]) for c in EMOTIONS) == pytest.approx(1.0, abs=1e-3)


def test_deterministic(timeline, tmp_path) -> None:
    a = write_timeline_csv(tmp_path / "a.csv", timeline)
    b = write_timeline_csv(tmp_path / "b.csv", timeline)
    assert a.read_bytes() == b.read_bytes()
