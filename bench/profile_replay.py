"""A pyinstrument profile of ``emostream replay fer_woman2.mp4``: HTML and text next to the results, and the
top hot spots (self time by function, summed over the call tree) for the table.

    python -m bench.profile_replay
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import SHARED_DATA
from bench.table import Row

VIDEO = SHARED_DATA / "videos" / "fer_woman2.mp4"
TOP = 6


IDLE = ("lock.acquire", "wait", "select", "sleep", "poll")  # the main thread waiting on the pipeline's threads


def label(node: Any) -> str:
    """``function (file:line)``; a synthetic ``[self]`` leaf is its parent's own time."""
    while (node.is_synthetic or node.function.startswith("pybind11")) and node.parent is not None:
        node = node.parent  # pybind11 '...run': the Python method that called into native code (ONNX Runtime)
    return f"{node.function} ({Path(node.file_path_short or '?').name}:{node.line_no})"


def self_times(frame: Any, into: dict[str, float]) -> dict[str, float]:
    """Self time by function over the whole tree (pyinstrument's ``Frame``), waiting apart as ``idle``."""
    stack = [frame]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        name = label(node)
        into["idle (waiting on threads)" if name.split(" ")[0].endswith(IDLE) else name] += node.total_self_time
        stack.extend(node.children)
    return into


def profile(prefix: Path, quick: bool) -> dict[str, object]:
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
    from pyinstrument.session import Session

    with tempfile.TemporaryDirectory() as tmp:
        session_file = Path(tmp) / "replay.pyisession"
        argv = [
            sys.executable,
            "-m",
            "pyinstrument",
            "-r",
            "session",
            "-o",
            str(session_file),
            "-m",
            "emostream.cli",
            "replay",
            str(VIDEO),
            "--out",
            str(Path(tmp) / "out"),
            "--quiet",
        ]
        if quick:
            argv += ["--no-video"]
        subprocess.run(argv, check=True, capture_output=True)
        session = Session.load(str(session_file))
    html, text = prefix.with_suffix(".html"), prefix.with_suffix(".txt")
    html.write_text(HTMLRenderer().render(session))
    text.write_text(ConsoleRenderer(unicode=False, color=False).render(session))
    totals = self_times(session.root_frame(), defaultdict(float))
    total = sum(totals.values()) or 1.0
    top = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:TOP]
    return {
        "html": html,
        "text": text,
        "duration_s": session.duration,
        "top": [(name, t, t / total) for name, t in top],
    }


def rows(quick: bool, prefix: Path) -> list[Row]:
    result = profile(prefix, quick)
    top = result["top"]
    assert isinstance(top, list)
    spots = "main thread (detection runs in the prefetch thread, seen here as idle): " + "; ".join(
        f"{name} {share:.0%}" for name, _, share in top
    )
    command = f"python -m pyinstrument -m emostream.cli replay fer_woman2.mp4{' --no-video' if quick else ''}"
    return [
        Row(
            "profile",
            "replay fer_woman2: top self time",
            "",
            f"{spots} (of {result['duration_s']:.1f} s; {Path(str(result['html'])).name})",
            None,
            command,
            {"top": top, "html": str(result["html"]), "text": str(result["text"])},
        )
    ]


if __name__ == "__main__":
    from bench.common import RESULTS

    RESULTS.mkdir(parents=True, exist_ok=True)
    for row in rows(False, RESULTS / "replay-profile"):
        print(row.measured)
