"""annotated.mp4: the file decodes back with the right frame count and size, and faces are drawn."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emostream.outputs.annotated_video import AnnotatedVideoWriter, VideoWriterError, annotate_video, draw_faces


def _decode(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames


def test_sink_writes_a_decodable_video(timeline, geometry, tmp_path) -> None:
    fps, width, height = geometry
    by_seq = timeline.frames_by_seq()
    path = tmp_path / "annotated.mp4"
    with AnnotatedVideoWriter(path, fps, (width, height), timeline.classes) as sink:
        for seq in range(timeline.frame_count):
            sink.write(np.full((height, width, 3), 90, np.uint8), by_seq.get(seq, ()))
    assert sink.codec is not None and sink.frames_written == timeline.frame_count
    frames = _decode(path)
    assert len(frames) == timeline.frame_count
    assert frames[0].shape == (height, width, 3)
    assert np.abs(frames[0].astype(int) - 90).max() > 60  # something was drawn


def test_annotate_video_from_source(timeline, geometry, tmp_path) -> None:
    fps, width, height = geometry
    src = tmp_path / "source.mp4"
    with AnnotatedVideoWriter(src, fps, (width, height)) as sink:
        for _ in range(timeline.frame_count):
            sink.write(np.full((height, width, 3), 128, np.uint8))
    out = tmp_path / "annotated.mp4"
    assert annotate_video(src, timeline, out) == timeline.frame_count
    assert len(_decode(out)) == timeline.frame_count


@pytest.mark.parametrize("size", [(64, 48), (1920, 1080)])
def test_draw_faces_stays_inside_the_frame(timeline, size) -> None:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    faces = timeline.frames_by_seq()[0]
    assert draw_faces(image, faces, timeline.classes) is image
    assert image.any()


def test_wrong_size_and_closed_sink_raise(tmp_path) -> None:
    sink = AnnotatedVideoWriter(tmp_path / "x.mp4", 25.0, (64, 48))
    with pytest.raises(RuntimeError):
        sink.write(np.zeros((48, 64, 3), np.uint8))
    with sink, pytest.raises(ValueError):
        sink.write(np.zeros((10, 10, 3), np.uint8))


def test_no_usable_codec_raises(tmp_path) -> None:
    with pytest.raises(VideoWriterError), AnnotatedVideoWriter(tmp_path / "x.mp4", 25.0, (64, 48), codecs=("ZZZZ",)):
        pass
