"""timeline.csv: one row per track per frame, for spreadsheets and pandas.

Columns: ``track_id, seq, pts, x1, y1, x2, y2, score, observed, quality, label, confidence``, then
``raw_<class>`` and ``smoothed_<class>`` for every model class. Empty cells mean "none" (no probabilities for an
unusable or unobserved face). Rows are sorted by track id, then seq; numbers are rounded as in timeline.json.

Example:
    >>> from emostream.aggregator import TimelineBuilder
    >>> header(("happy", "sad"))[-4:]
    ['raw_happy', 'raw_sad', 'smoothed_happy', 'smoothed_sad']
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from emostream.aggregator.records import FrameRecord, Timeline
from emostream.outputs.timeline_json import BOX_DIGITS, PROB_DIGITS, PTS_DIGITS

_FIXED = ["track_id", "seq", "pts", "x1", "y1", "x2", "y2", "score", "observed", "quality", "label", "confidence"]


def header(classes: Sequence[str]) -> list[str]:
    """The CSV header for a model with these classes."""
    return [*_FIXED, *(f"raw_{c}" for c in classes), *(f"smoothed_{c}" for c in classes)]


def _probs(p: np.ndarray | None, n: int) -> list[str]:
    if p is None:
        return [""] * n
    return [repr(v) for v in np.round(np.asarray(p, np.float64), PROB_DIGITS).tolist()]


def _num(value: float, digits: int) -> str:
    return repr(round(float(value), digits) + 0.0)


def _row(track_id: int, rec: FrameRecord, n: int) -> list[str]:
    b = rec.box
    return [
        str(track_id), str(rec.seq), _num(rec.pts, PTS_DIGITS),
        *(_num(v, BOX_DIGITS) for v in (b.x1, b.y1, b.x2, b.y2)),
        _num(rec.score, PROB_DIGITS), "1" if rec.observed else "0", ";".join(sorted(q.value for q in rec.quality)),
        rec.label, _num(rec.confidence, PROB_DIGITS), *_probs(rec.raw, n), *_probs(rec.smoothed, n),
    ]  # fmt: skip


def rows(timeline: Timeline) -> Iterator[list[str]]:
    """The data rows (without header), by track id then seq."""
    n = len(timeline.classes)
    for track in timeline.tracks:
        for rec in track.frames:
            yield _row(track.track_id, rec, n)


def write_timeline_csv(path: str | os.PathLike[str], timeline: Timeline) -> Path:
    """Write ``timeline.csv`` (atomically) and return its path."""
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header(timeline.classes))
        writer.writerows(rows(timeline))
    os.replace(tmp, out)
    return out
