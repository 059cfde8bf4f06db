"""Square regions of a frame that are resized into one detector input each: letterbox and tiles.

A :class:`Region` is a square in frame pixels; parts of it outside the frame are padding. Filling
a region resizes only the part inside the frame (see :func:`shrink`) straight into a slot of
the batch buffer, and records the exact affine map back to frame pixels.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Region:
    """A square ``side`` x ``side`` in frame pixels with its top-left corner at (x0, y0).

    ``core`` is the part of the region that owns detections whose centre falls in it (tiles give
    away their overlap margins to their neighbours), as x1, y1, x2, y2 in frame pixels.
    ``max_face`` drops detections wider than this fraction of the side (tiles leave big faces,
    which they may cut, to the whole-frame pass).
    """

    x0: float
    y0: float
    side: float
    core: tuple[float, float, float, float] = (-math.inf, -math.inf, math.inf, math.inf)
    max_face: float = math.inf


@dataclass(frozen=True)
class Mapping:
    """Input pixel -> frame pixel: ``x = (u - tx) / sx``, ``y = (v - ty) / sy``."""

    sx: float
    tx: float
    sy: float
    ty: float

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) input-pixel points to frame pixels."""
        out = np.empty_like(points)
        out[..., 0] = (points[..., 0] - self.tx) / self.sx
        out[..., 1] = (points[..., 1] - self.ty) / self.sy
        return out


def letterbox(height: int, width: int) -> Region:
    """The whole frame, centred in a square (padding on the short side)."""
    side = float(max(height, width))
    return Region((width - side) / 2, (height - side) / 2, side)


def around(cx: float, cy: float, side: float) -> Region:
    """A square of ``side`` centred on (cx, cy) that keeps only detections centred in its middle half."""
    q = side / 4
    return Region(cx - side / 2, cy - side / 2, side, (cx - q, cy - q, cx + q, cy + q))


def tiles(height: int, width: int, side: int, overlap: int, max_face: float = 0.5) -> list[Region]:
    """Square tiles of ``side`` px covering the frame, neighbours overlapping by at least ``overlap`` px.

    Tiles are spread evenly, so the actual overlap may be larger. A face narrower than the
    overlap lies whole inside at least one tile; each detection is kept only by the tile whose
    core holds its centre (core borders run through the middle of each overlap).

    >>> [(r.x0, r.y0) for r in tiles(100, 180, 100, 20)]
    [(0.0, 0.0), (80.0, 0.0)]
    """

    def starts(length: int) -> list[float]:
        if length <= side:
            return [(length - side) / 2]
        n = math.ceil((length - overlap) / (side - overlap))
        step = (length - side) / (n - 1)
        return [i * step for i in range(n)]

    def cores(origins: list[float]) -> list[tuple[float, float]]:
        mids = [(a + side + b) / 2 for a, b in itertools.pairwise(origins)]
        return list(zip([-math.inf, *mids], [*mids, math.inf], strict=True))

    xs, ys = starts(width), starts(height)
    out = []
    for y, (cy1, cy2) in zip(ys, cores(ys), strict=True):
        for x, (cx1, cx2) in zip(xs, cores(xs), strict=True):
            out.append(Region(x, y, float(side), (cx1, cy1, cx2, cy2), max_face))
    return out


def shrink(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, int, int]:
    """Resize ``image`` to (height, width) fast and without aliasing.

    ``INTER_AREA`` is fast only for integer factors, so a big reduction is an integer-factor
    ``INTER_AREA`` (on a view trimmed to a multiple of the factor) then a ``INTER_LINEAR`` step of
    less than 2x. Returns the resized image and the source width and height actually used
    (the trimmed extent, anchored at the top-left corner).
    """
    h, w = image.shape[:2]
    k = min(w // width, h // height) if width < w and height < h else 1
    if k >= 2:
        w, h = (w // k) * k, (h // k) * k
        image = cv2.resize(image[:h, :w], (w // k, h // k), interpolation=cv2.INTER_AREA)
    if image.shape[1] != width or image.shape[0] != height:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return image, w, h


def fill(image: np.ndarray, region: Region, out: np.ndarray, pad_value: int = 0) -> Mapping:
    """Resize the part of ``region`` inside ``image`` into ``out`` (S, S, C) and pad the rest.

    Returns the exact mapping from ``out`` pixels back to frame pixels.
    """
    size = out.shape[0]
    h, w = image.shape[:2]
    scale = size / region.side
    ix0, iy0 = max(0, math.floor(region.x0)), max(0, math.floor(region.y0))
    ix1, iy1 = min(w, math.ceil(region.x0 + region.side)), min(h, math.ceil(region.y0 + region.side))
    out[...] = pad_value
    if ix1 <= ix0 or iy1 <= iy0:  # wholly outside the frame
        return Mapping(sx=scale, tx=-region.x0 * scale, sy=scale, ty=-region.y0 * scale)
    dx0, dy0 = max(0, round((ix0 - region.x0) * scale)), max(0, round((iy0 - region.y0) * scale))
    dx1 = min(size, max(dx0 + 1, round((ix1 - region.x0) * scale)))
    dy1 = min(size, max(dy0 + 1, round((iy1 - region.y0) * scale)))
    resized, used_w, used_h = shrink(image[iy0:iy1, ix0:ix1], dx1 - dx0, dy1 - dy0)
    out[dy0:dy1, dx0:dx1] = resized
    sx, sy = (dx1 - dx0) / used_w, (dy1 - dy0) / used_h
    return Mapping(sx=sx, tx=dx0 - ix0 * sx, sy=sy, ty=dy0 - iy0 * sy)
