"""annotated.mp4 of a live source: written at the rate its frames came (their capture times), not an assumed one."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emostream.aggregator import Timeline
from emostream.core.types import Frame, FrameMeta
from emostream.outputs.live_video import FrameRate, LiveAnnotatedVideo


def _frames(count: int, fps: float, start: float = 1_700_000_000.0) -> list[Frame]:
    return [Frame(FrameMeta("cam0", seq * 3, 0.0, start + seq / fps, 64, 48), np.full((48, 64, 3), 80, np.uint8))
            for seq in range(count)]  # fmt: skip


def _file_fps_and_frames(path: Path) -> tuple[float, int]:
    cap = cv2.VideoCapture(str(path))
    fps, count = cap.get(cv2.CAP_PROP_FPS), 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return fps, count


@pytest.mark.parametrize(("fps", "count"), [(10.0, 40), (7.5, 12), (30.0, 90)])
def test_the_video_plays_at_the_rate_the_frames_came(tmp_path: Path, fps: float, count: int) -> None:
    path = tmp_path / "annotated.mp4"
    sink = LiveAnnotatedVideo(path, probe_s=1.0)
    for frame in _frames(count, fps):
        sink.write(frame, ())
    sink.close()
    assert sink.fps == pytest.approx(fps)
    written_fps, frames = _file_fps_and_frames(path)
    assert frames == count and written_fps == pytest.approx(fps, rel=0.01)


def test_the_file_opens_after_the_probe_and_then_streams(tmp_path: Path) -> None:
    sink = LiveAnnotatedVideo(tmp_path / "annotated.mp4", probe_s=1.0)
    frames = _frames(30, 10.0)
    for frame in frames[:10]:  # 0.9 s of frames: still measuring
        sink.write(frame)
    assert sink.fps is None and sink.frames_written == 0
    sink.write(frames[10])
    assert sink.fps == pytest.approx(10.0) and sink.frames_written == 11
    for frame in frames[11:]:
        sink.write(frame)
    assert sink.frames_written == 30
    sink.close()
    sink.close()  # idempotent
    with pytest.raises(RuntimeError):
        sink.write(frames[0])


def test_large_frames_open_the_file_sooner(tmp_path: Path) -> None:
    sink = LiveAnnotatedVideo(tmp_path / "annotated.mp4", probe_s=60.0, probe_bytes=3 * 48 * 64 * 3)
    for frame in _frames(3, 5.0):
        sink.write(frame)
    assert sink.fps == pytest.approx(5.0) and sink.frames_written == 3
    sink.close()


@pytest.mark.parametrize("frames", [_frames(1, 10.0), [*_frames(1, 10.0), *_frames(1, 10.0)]])
def test_without_a_measurable_rate_the_fallback_is_used(tmp_path: Path, frames: list[Frame]) -> None:
    sink = LiveAnnotatedVideo(tmp_path / "annotated.mp4", fallback_fps=12.0)
    for frame in frames:
        sink.write(frame)
    sink.close()
    assert sink.fps == 12.0 and _file_fps_and_frames(tmp_path / "annotated.mp4")[1] == len(frames)


def test_no_frame_no_file(tmp_path: Path) -> None:
    LiveAnnotatedVideo(tmp_path / "annotated.mp4").close()
    assert not (tmp_path / "annotated.mp4").exists()


def test_faces_are_drawn_at_once(tmp_path: Path, timeline: Timeline) -> None:
    sink = LiveAnnotatedVideo(tmp_path / "annotated.mp4", timeline.classes)
    image = np.zeros((240, 320, 3), np.uint8)
    sink.write(Frame(FrameMeta("cam0", 0, 0.0, 100.0, 320, 240), image), timeline.frames_by_seq()[0])
    assert image.any()  # drawn in place before the file is even open (what --show displays)
    sink.close()


def test_frame_rate_from_timestamps() -> None:
    rate = FrameRate()
    assert rate.fps() is None
    for t in (10.0, 10.5, 11.0, 12.0):
        rate.add(t)
    assert rate.fps() == pytest.approx(1.5) and rate.span == 2.0
