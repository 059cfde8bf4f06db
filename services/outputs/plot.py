"""timeline.png: one panel per track with its smoothed emotion probabilities over time and its segments.

Rendered with matplotlib's Agg canvas directly (no pyplot, no global backend state), so it is safe in threads
and headless processes.

Example:
    >>> import os, tempfile
    >>> from emostream.aggregator import TimelineBuilder
    >>> path = plot_timeline(TimelineBuilder().finish(), os.path.join(tempfile.mkdtemp(), "timeline.png"))
    >>> path.stat().st_size > 0
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from emostream.aggregator.records import Timeline, TrackTimeline
from emostream.core.labels import UNKNOWN
from emostream.outputs.palette import emotion_rgb

_BAND = (1.03, 0.14)  # y and height of the segment band above the probabilities


def select_tracks(tracks: Sequence[TrackTimeline], max_tracks: int) -> list[TrackTimeline]:
    """The ``max_tracks`` longest tracks (most frames, then earliest id), in id order."""
    longest = sorted(tracks, key=lambda t: (-t.frame_count, t.track_id))[:max_tracks]
    return sorted(longest, key=lambda t: t.track_id)


def _probabilities(track: TrackTimeline, n: int) -> tuple[np.ndarray, np.ndarray]:
    """pts (F,) and smoothed probabilities (F, n) with NaN rows where the face was unknown."""
    pts = np.fromiter((r.pts for r in track.frames), np.float64, len(track.frames))
    probs = np.full((len(track.frames), n), np.nan)
    for i, r in enumerate(track.frames):
        if r.smoothed is not None:
            probs[i] = r.smoothed[:n]
    return pts, probs


def _panel(ax: Axes, track: TrackTimeline, classes: Sequence[str], t0: float) -> None:
    pts, probs = _probabilities(track, len(classes))
    x = pts - t0
    if len(x):
        cum = np.nancumsum(probs, axis=1)
        cum[np.isnan(probs[:, 0])] = np.nan  # keep unknown frames as gaps
        lower = np.zeros(len(x))
        lower[np.isnan(cum[:, 0])] = np.nan
        for k, name in enumerate(classes):
            ax.fill_between(x, lower, cum[:, k], color=emotion_rgb(name), linewidth=0, alpha=0.9)
            lower = cum[:, k]
    span = max(track.last_pts - track.first_pts, 1e-3)
    step = float(np.median(np.diff(pts))) if len(pts) > 1 else 0.0  # a frame's duration
    segments = track.segments
    for i, seg in enumerate(segments):
        # a segment lasts until the next one starts (or one frame past its last frame), so runs tile the band
        end = segments[i + 1].start_pts if i + 1 < len(segments) else seg.end_pts + step
        end = min(end, seg.end_pts + max(step, 1e-3) * 1.5) if i + 1 < len(segments) else end
        start, width = seg.start_pts - t0, max(end - seg.start_pts, 1e-3)
        unknown = seg.label == UNKNOWN
        ax.broken_barh([(start, width)], _BAND, facecolors=emotion_rgb(seg.label), edgecolors="white",
                       linewidth=0.5, hatch="///" if unknown else None)  # fmt: skip
        if width >= 0.06 * span and not unknown:
            ax.text(start + width / 2, _BAND[0] + _BAND[1] / 2, seg.label, ha="center", va="center", fontsize=7,
                    color="black", clip_on=True)  # fmt: skip
    ax.set_ylim(0, _BAND[0] + _BAND[1] + 0.02)
    ax.set_yticks([0, 0.5, 1.0])
    ax.set_ylabel(f"#{track.track_id}", rotation=0, ha="right", va="center", fontsize=10, fontweight="bold")
    ax.set_title(
        f"track {track.track_id}: {track.first_pts:.2f}-{track.last_pts:.2f} s, {track.frame_count} frames",
        fontsize=8, loc="left", pad=2,
    )  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_timeline(
    timeline: Timeline,
    path: str | os.PathLike[str],
    *,
    max_tracks: int = 8,
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Write ``timeline.png`` (the ``max_tracks`` longest tracks) and return its path."""
    classes = timeline.classes
    tracks = select_tracks(timeline.tracks, max_tracks)
    n = max(len(tracks), 1)
    fig = Figure(figsize=(12, 1.3 + 1.7 * n), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    t0 = timeline.first_pts or 0.0
    t1 = max(timeline.last_pts or 0.0, t0 + 1e-3)
    for ax, track in zip(axes, tracks, strict=False):
        _panel(ax, track, classes, t0)
    if not tracks:
        axes[0].text(0.5, 0.5, "no faces tracked", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_yticks([])
    axes[-1].set_xlim(0, t1 - t0)
    axes[-1].set_xlabel("time (s)")
    handles = [Patch(color=emotion_rgb(c), label=c) for c in classes]
    handles.append(Patch(facecolor=emotion_rgb(UNKNOWN), hatch="///", label=UNKNOWN))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=9)
    shown = "" if len(tracks) == len(timeline.tracks) else f" ({len(tracks)} longest of {len(timeline.tracks)} tracks)"
    fig.suptitle((title or "Emotions per track") + shown, fontsize=11)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
