"""annotated.mp4 of a live source, written at the rate its frames really came.

A camera's reported fps is unreliable, and with newest-frame-wins the pipeline keeps only the frames it
has time for, so the video's rate is measured from the frames themselves: their capture times
(``FrameMeta.wall_time``). The first frames are held (drawn at once, so ``--show`` sees them annotated)
until ``probe_s`` seconds of them, or ``probe_bytes`` of images, have come; the file is then opened at
the rate they came at and every later frame is written as it comes.

Example:
    >>> import numpy as np, tempfile, os
    >>> from emostream.core.types import Frame, FrameMeta
    >>> path = os.path.join(tempfile.mkdtemp(), "annotated.mp4")
    >>> sink = LiveAnnotatedVideo(path)
    >>> for seq in range(5):  # 10 frames a second
    ...     sink.write(Frame(FrameMeta("cam0", seq, 0.0, 100.0 + seq / 10, 64, 48), np.zeros((48, 64, 3), np.uint8)))
    >>> sink.close()
    >>> round(sink.fps, 3), sink.frames_written
    (10.0, 5)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emostream.core.labels import EMOTIONS
from emostream.core.types import Frame
from emostream.outputs.annotated_video import DEFAULT_CODECS, AnnotatedVideoWriter, FaceOverlay, draw_faces

PROBE_S = 2.0
PROBE_BYTES = 128 * 1024 * 1024


class FrameRate:
    """Frames per second from their timestamps: (frames - 1) over the time from the first to the last."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0

    def add(self, timestamp: float) -> None:
        self.first = timestamp if self.first is None else self.first
        self.last = timestamp
        self.count += 1

    @property
    def span(self) -> float:
        return 0.0 if self.first is None or self.last is None else self.last - self.first

    def fps(self) -> float | None:
        """None until two frames with a positive span have come."""
        return (self.count - 1) / self.span if self.count >= 2 and self.span > 0 else None


class LiveAnnotatedVideo:
    """The pipeline's live sink: ``write(frame, faces)`` per tracked frame, ``close()`` at the end.

    Args:
        path: the output file (``.mp4``).
        classes: the model's class names, in its output order.
        fallback_fps: the rate when none can be measured (a single frame, or timestamps that do not advance).
        probe_s: seconds of frames measured before the file is opened.
        probe_bytes: the most image bytes held meanwhile (large frames open the file sooner).
        codecs: FourCCs tried in order until one opens.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        classes: Sequence[str] = EMOTIONS,
        fallback_fps: float = 25.0,
        probe_s: float = PROBE_S,
        probe_bytes: int = PROBE_BYTES,
        codecs: Sequence[str] = DEFAULT_CODECS,
    ) -> None:
        self.path = Path(path)
        self.classes = tuple(classes)
        self.fallback_fps = fallback_fps
        self.probe_s, self.probe_bytes = probe_s, probe_bytes
        self.codecs = tuple(codecs)
        self.rate = FrameRate()
        self._held: list[np.ndarray] = []
        self._held_bytes = 0
        self._writer: AnnotatedVideoWriter | None = None
        self._closed = False

    @property
    def fps(self) -> float | None:
        """The rate the file is written at (None until it is opened)."""
        return self._writer.fps if self._writer is not None else None

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written if self._writer is not None else 0

    def write(self, frame: Frame, faces: Sequence[FaceOverlay] = ()) -> None:
        """Draw ``faces`` on ``frame.image`` (in place) and append it to the video."""
        if self._closed:
            raise RuntimeError("LiveAnnotatedVideo.write after close()")
        if faces:
            draw_faces(frame.image, faces, self.classes)
        if self._writer is not None:
            self._writer.write(frame.image)
            return
        self.rate.add(frame.meta.wall_time)
        self._held.append(frame.image)
        self._held_bytes += frame.image.nbytes
        if self.rate.span >= self.probe_s or self._held_bytes >= self.probe_bytes:
            self._open()

    def _open(self) -> None:
        height, width = self._held[0].shape[:2]
        fps = self.rate.fps() or self.fallback_fps
        self._writer = AnnotatedVideoWriter(self.path, fps, (width, height), self.classes, self.codecs).open()
        for image in self._held:
            self._writer.write(image)
        self._held.clear()
        self._held_bytes = 0

    def close(self) -> None:
        """Write what is held (at the rate measured so far) and finish the file (idempotent)."""
        if self._writer is None and self._held:
            self._open()
        if self._writer is not None:
            self._writer.close()
        self._closed = True
