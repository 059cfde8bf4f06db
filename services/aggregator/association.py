"""Similarity matrices and the optimal assignment used by the face tracker.

Example:
    >>> import numpy as np
    >>> a = np.array([[0.0, 0.0, 10.0, 10.0]])
    >>> b = np.array([[5.0, 0.0, 15.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    >>> iou_matrix(a, b).round(3).tolist()
    [[0.333, 0.0]]
    >>> match(np.array([[0.2, 0.9]]), max_cost=0.5)
    ([(0, 0)], [], [1])
"""

from __future__ import annotations

import lap
import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every ``[x1, y1, x2, y2]`` box of ``a`` (N, 4) with every box of ``b`` (M, 4)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def keypoint_similarity(
    track_kps: np.ndarray, det_kps: np.ndarray, scale: np.ndarray, sigma: float, fallback: np.ndarray
) -> np.ndarray:
    """OKS-like similarity ``exp(-d² / 2(σ·scale)²)`` of the mean keypoint distance ``d`` of each pair.

    Args:
        track_kps: (N, K, 2) keypoints predicted for the tracks (NaN where unknown).
        det_kps: (M, K, 2) detected keypoints (NaN where unknown).
        scale: (N,) size of each track's box (its height), the unit of distance.
        sigma: the distance, as a fraction of ``scale``, at which similarity falls to ``exp(-1/2)``.
        fallback: (N, M) value for pairs with no keypoint known on both sides (usually the IoU).
    """
    if not track_kps.size or not det_kps.size:
        return fallback
    d = np.linalg.norm(track_kps[:, None] - det_kps[None, :], axis=-1)  # (N, M, K), NaN where unknown
    valid = np.isfinite(d)
    count = valid.sum(axis=-1)
    mean_d = np.where(valid, d, 0.0).sum(axis=-1) / np.maximum(count, 1)
    unit = sigma * np.maximum(scale, 1.0)[:, None]
    sim = np.exp(-0.5 * (mean_d / unit) ** 2)
    return np.where(count > 0, sim, fallback)


def match(cost: np.ndarray, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Optimal one-to-one assignment (Jonker-Volgenant) of rows to columns whose cost is at most ``max_cost``.

    Returns the matched ``(row, col)`` pairs in row order, the unmatched rows and the unmatched columns.
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        return [], list(range(n)), list(range(m))
    _, row_to_col, col_to_row = lap.lapjv(cost, extend_cost=True, cost_limit=max_cost + 1e-9)
    pairs = [(int(r), int(c)) for r, c in enumerate(row_to_col) if c >= 0]
    return pairs, [r for r in range(n) if row_to_col[r] < 0], [c for c in range(m) if col_to_row[c] < 0]
