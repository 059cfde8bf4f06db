"""timeline.png: written, a PNG, and limited to the longest tracks."""

from __future__ import annotations

import pytest

from emostream.aggregator import TimelineBuilder
from emostream.outputs.plot import plot_timeline, select_tracks

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_png_written(timeline, tmp_path) -> None:
    path = plot_timeline(timeline, tmp_path / "timeline.png", title="synthetic")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_empty_timeline_still_plots(tmp_path) -> None:
    path = plot_timeline(TimelineBuilder().finish(), tmp_path / "timeline.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(("max_tracks", "expected"), [(1, [1]), (2, [1, 2]), (5, [1, 2])])
def test_select_longest_tracks(timeline, max_tracks, expected) -> None:
    assert [t.track_id for t in select_tracks(timeline.tracks, max_tracks)] == expected
