"""A teacher's targets computed once for each of K fixed views of the Training faces, then reused
(``python -m training.train --teacher ... --teacher-views K``).

A large teacher costs more per face than the student's training step: ResNet-18 (0.65 GFLOPs) against
``emonet_slim``'s 63 MMACs, and the teacher sees every augmented face twice (it is flip-averaged). Asked afresh
every epoch it would more than double a student's epoch on the CPU. With K views, epoch e replays view e mod K:
view v's shuffle and augmentation are seeded by v instead of e, so the teacher's probabilities for view v are
computed in the first epoch that trains on it, kept in ``<run>/teacher_views/view-VVV.npz`` (float16, one row a
face, in batch order), and read back in every later epoch of that view, a resumed call's too. The price: the
student sees K augmentations of each face in all, not a new one every epoch.

A view file records a key (the teacher's sha256, the data's, and every setting that shapes the batches), and one
whose key differs is recomputed rather than reused.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

VIEWS_FOLDER = "teacher_views"


def views_key(settings: dict[str, Any]) -> str:
    """A short digest of what a view's probabilities depend on (a JSON-able dict)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:24]


class TeacherViews:
    """The teacher's probabilities for each batch of K views, ``samples`` faces in batches of ``batch_size``."""

    def __init__(self, folder: Path, views: int, samples: int, batch_size: int, key: str) -> None:
        if views < 1:
            raise ValueError(f"teacher views must be at least 1, not {views}")
        self.folder, self.views, self.samples, self.batch_size, self.key = folder, views, samples, batch_size, key
        self.batches = -(-samples // batch_size)
        self._stored: dict[int, np.ndarray | None] = {}  # view -> its file's rows (None: no usable file)
        self._pending: dict[int, dict[int, np.ndarray]] = {}  # view -> batch index -> rows, until saved

    def view(self, epoch: int) -> int:
        """The view an epoch (0-based) trains on."""
        return epoch % self.views

    def path(self, view: int) -> Path:
        return self.folder / f"view-{view:03d}.npz"

    def get(self, view: int, index: int) -> np.ndarray | None:
        """Batch ``index`` of ``view`` (rows summing to 1), or None if the teacher has not seen it yet."""
        stored = self._load(view)
        if stored is not None:
            rows = stored[index * self.batch_size : (index + 1) * self.batch_size].astype(np.float32)
            return rows / rows.sum(axis=1, keepdims=True)  # float16 rounding moves the sums by up to ~1e-3
        return self._pending.get(view, {}).get(index)

    def put(self, view: int, index: int, probabilities: np.ndarray) -> None:
        if not 0 <= index < self.batches:
            raise IndexError(f"batch {index} of a view of {self.batches} batches")
        self._pending.setdefault(view, {})[index] = np.asarray(probabilities, dtype=np.float32)

    def save(self, view: int) -> bool:
        """Write ``view``'s file once every batch of it is known; True if written now."""
        batches = self._pending.get(view, {})
        if self._load(view) is not None or len(batches) < self.batches:
            return False
        rows = np.concatenate([batches[index] for index in range(self.batches)]).astype(np.float16)
        if len(rows) != self.samples:
            raise ValueError(f"view {view}: {len(rows)} rows for {self.samples} faces")
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path(view).with_suffix(".tmp.npz")
        np.savez_compressed(partial, probabilities=rows, key=np.array(self.key))
        os.replace(partial, self.path(view))
        self._stored[view] = rows
        del self._pending[view]
        return True

    def _load(self, view: int) -> np.ndarray | None:
        if view not in self._stored:
            self._stored[view] = None
            path = self.path(view)
            if path.exists():
                with np.load(path) as data:
                    if str(data["key"]) == self.key and data["probabilities"].shape[0] == self.samples:
                        self._stored[view] = data["probabilities"]
                    else:
                        print(f"teacher views: {path} was made for other settings; recomputing it", flush=True)
        return self._stored[view]
