"""Non-maximum suppression on arrays: plain (keep the best) and weighted (average the cluster).

Weighted NMS is what MediaPipe uses for BlazeFace: every box that overlaps the best one by more
than the threshold is merged into it, weighted by score, which steadies boxes and keypoints.
"""

from __future__ import annotations

import numpy as np


def iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) xyxy box with each of (K, 4) boxes."""
    ix1 = np.maximum(box[0], boxes[:, 0])
    iy1 = np.maximum(box[1], boxes[:, 1])
    ix2 = np.minimum(box[2], boxes[:, 2])
    iy2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, best score first.

    >>> b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    >>> nms(b, np.array([0.9, 0.8, 0.7]), 0.5).tolist()
    [0, 2]
    """
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[iou_one_to_many(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, extras: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge overlapping detections by score-weighted averaging (MediaPipe's WEIGHTED algorithm).

    Args:
        boxes: (K, 4) xyxy.
        scores: (K,).
        extras: (K, ...) values averaged alongside the boxes (keypoints).
        iou_threshold: boxes overlapping the cluster's best by more than this are merged into it.

    Returns:
        boxes (M, 4), scores (M,) (the best score of each cluster), extras (M, ...), best first.
    """
    order = np.argsort(-scores, kind="stable")
    out_boxes, out_scores, out_extras = [], [], []
    while order.size:
        best = order[0]
        overlap = iou_one_to_many(boxes[best], boxes[order]) > iou_threshold
        overlap[0] = True
        cluster = order[overlap]
        w = scores[cluster].astype(np.float64)
        w = w / w.sum()
        out_boxes.append(np.tensordot(w, boxes[cluster], axes=1))
        out_extras.append(np.tensordot(w, extras[cluster], axes=1))
        out_scores.append(scores[best])
        order = order[~overlap]
    if not out_boxes:
        return boxes[:0], scores[:0], extras[:0]
    return (
        np.asarray(out_boxes, dtype=boxes.dtype),
        np.asarray(out_scores, dtype=scores.dtype),
        np.asarray(out_extras, dtype=extras.dtype),
    )
