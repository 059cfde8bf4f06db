"""annotated.mp4: each frame with its faces' boxes, track ids, label + confidence and probability bars.

Two ways in, both encoding every frame exactly once:

* live, inside the pipeline: ``with AnnotatedVideoWriter(...) as sink: sink.write(image, result.faces)``;
* after the fact, from a finished timeline (so frames of tracks confirmed late are drawn too):
  :func:`annotate_video` decodes the source once and writes the annotated copy.

Example:
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "annotated.mp4")
    >>> with AnnotatedVideoWriter(path, fps=25.0, size=(64, 48)) as sink:
    ...     sink.write(np.zeros((48, 64, 3), np.uint8), [])
    >>> sink.frames_written
    1
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from emostream.aggregator.records import FrameRecord, Timeline
from emostream.core.labels import EMOTIONS, UNKNOWN
from emostream.core.prefetch import prefetch
from emostream.outputs.palette import emotion_bgr, track_bgr

DEFAULT_CODECS: tuple[str, ...] = ("mp4v", "avc1")
"""FourCCs tried in order. opencv-python-headless ships an MPEG-4 Part 2 encoder (mp4v); avc1 needs OpenH264."""

FaceOverlay = tuple[int, FrameRecord]
"""(track_id, record): what :meth:`TimelineBuilder.update` returns in ``FrameResult.faces``."""


class VideoWriterError(RuntimeError):
    """No codec could open the output file."""


def _abbrev(name: str) -> str:
    return name[:3].capitalize()


def draw_faces(image: np.ndarray, faces: Sequence[FaceOverlay], classes: Sequence[str] = EMOTIONS) -> np.ndarray:
    """Draw the faces onto ``image`` in place (BGR) and return it.

    Per face: the box in the track's colour (thin when the tracker predicted it), ``#id label confidence`` above
    it, and a bar per class beside it (smoothed probabilities, else raw; none for an unknown face).
    """
    h_img, w_img = image.shape[:2]
    unit = max(h_img / 720.0, 0.8)  # scale of lines and text: 1 at 720p, readable on small videos
    thick = max(1, round(2 * unit))
    font, fscale, tthick = cv2.FONT_HERSHEY_SIMPLEX, 0.5 * unit, max(1, round(unit))
    for track_id, rec in faces:
        colour = track_bgr(track_id)
        x1, y1, x2, y2 = (round(v) for v in (rec.box.x1, rec.box.y1, rec.box.x2, rec.box.y2))
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, thick if rec.observed else max(1, thick // 2), cv2.LINE_AA)
        text = f"#{track_id} {rec.label}" + ("" if rec.label == UNKNOWN else f" {rec.confidence:.0%}")
        (tw, th), base = cv2.getTextSize(text, font, fscale, tthick)
        tx = min(max(x1, 0), max(0, w_img - tw - 4))
        ty = y1 - base - 2 if y1 - th - base - 4 >= 0 else min(y2 + th + 4, h_img - base - 2)
        cv2.rectangle(image, (tx, ty - th - 2), (tx + tw + 4, ty + base), colour, cv2.FILLED)
        cv2.putText(image, text, (tx + 2, ty), font, fscale, (255, 255, 255), tthick, cv2.LINE_AA)
        probs = rec.smoothed if rec.smoothed is not None else rec.raw
        if probs is not None:
            _draw_bars(image, probs, classes, (x1, y1, x2), unit)
    return image


def _draw_bars(
    image: np.ndarray, probs: np.ndarray, classes: Sequence[str], box: tuple[int, int, int], unit: float
) -> None:
    """Seven small labelled bars beside the box (right side, or left when there is no room)."""
    h_img, w_img = image.shape[:2]
    row = max(8, round(11 * unit))
    label_w, bar_w = round(3.2 * row), round(5 * row)
    panel_w, panel_h = label_w + bar_w + 6, row * len(classes) + 4
    x1, y1, x2 = box
    px = x2 + 4 if x2 + 4 + panel_w <= w_img else max(0, x1 - 4 - panel_w)
    py = min(max(0, y1), max(0, h_img - panel_h))
    roi = image[py : py + panel_h, px : px + panel_w]
    np.right_shift(roi, 1, out=roi)  # darken the panel background (halve), cheap and in place
    fscale = 0.33 * row / 11 * 1.1
    for i, (name, p) in enumerate(zip(classes, np.asarray(probs, np.float64), strict=False)):
        top = py + 2 + i * row
        cv2.putText(image, _abbrev(name), (px + 2, top + row - 2), cv2.FONT_HERSHEY_SIMPLEX, fscale,
                    (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
        length = round(bar_w * min(max(p, 0.0), 1.0))
        if length > 0:
            bx = px + label_w
            cv2.rectangle(image, (bx, top + 1), (bx + length, top + row - 2), emotion_bgr(name), cv2.FILLED)


class AnnotatedVideoWriter:
    """Context-manager sink that annotates frames and encodes them once with ``cv2.VideoWriter``.

    Args:
        path: the output file (``.mp4``).
        fps: the frame rate to write (the source's).
        size: ``(width, height)`` of every frame.
        classes: the model's class names, in its output order.
        codecs: FourCCs tried in order until one opens.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float,
        size: tuple[int, int],
        classes: Sequence[str] = EMOTIONS,
        codecs: Sequence[str] = DEFAULT_CODECS,
    ) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        self.classes = tuple(classes)
        self.codecs = tuple(codecs)
        self.codec: str | None = None
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None

    def open(self) -> AnnotatedVideoWriter:
        """Open the file with the first codec that works; raises :class:`VideoWriterError` if none does."""
        for codec in self.codecs:
            writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*codec), self.fps, self.size)
            if writer.isOpened():
                self._writer, self.codec = writer, codec
                return self
            writer.release()
        raise VideoWriterError(f"no codec in {self.codecs} can write {self.path}")

    def write(self, image: np.ndarray, faces: Sequence[FaceOverlay] = ()) -> None:
        """Annotate ``image`` (BGR, drawn on in place: pass a copy to keep a clean frame) and append it."""
        if self._writer is None:
            raise RuntimeError("AnnotatedVideoWriter.write before open() / outside its with block")
        if (image.shape[1], image.shape[0]) != self.size:
            raise ValueError(f"frame is {image.shape[1]}x{image.shape[0]}, the video {self.size[0]}x{self.size[1]}")
        if faces:
            draw_faces(image, faces, self.classes)
        self._writer.write(image)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file (idempotent)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> AnnotatedVideoWriter:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def annotate_video(
    source: str | os.PathLike[str],
    timeline: Timeline,
    path: str | os.PathLike[str],
    fps: float | None = None,
    codecs: Sequence[str] = DEFAULT_CODECS,
) -> int:
    """Decode ``source`` once, draw ``timeline``'s records on frame ``seq`` (its 0-based index), write ``path``.

    Returns the number of frames written.
    """
    from emostream.capture.video_file import VideoFileReader  # the same reader and seq numbering as replay

    with VideoFileReader(Path(source)) as reader:
        rate = fps or reader.info.fps
        size = (reader.info.width, reader.info.height)
        by_seq = timeline.frames_by_seq()
        with AnnotatedVideoWriter(path, rate, size, timeline.classes, codecs) as sink:
            for frame in prefetch(reader):  # decoding in its own thread, ahead of drawing and encoding
                sink.write(frame.image, by_seq.get(frame.meta.seq, ()))
        return sink.frames_written
