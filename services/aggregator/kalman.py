"""A bank of constant-velocity Kalman filters for face boxes, batched over tracks with numpy.

State per track: ``[cx, cy, w, h, vcx, vcy, vw, vh]`` in pixels and pixels per second. The measurement is the
box ``[cx, cy, w, h]``. Noise follows ByteTrack's (proportional to the box height) but is expressed per second
of presentation time, so the filter behaves the same at any frame rate and across skipped frames.

Example:
    >>> import numpy as np
    >>> bank = KalmanBoxBank()
    >>> bank.add(np.array([[100.0, 100.0, 40.0, 40.0]]))
    >>> bank.predict(1 / 30)
    >>> bank.boxes_xyxy().round(1).tolist()
    [[80.0, 80.0, 120.0, 120.0]]
"""

from __future__ import annotations

import numpy as np

_NDIM = 4


class KalmanBoxBank:
    """N independent constant-velocity Kalman filters, vectorised over the rows.

    With diagonal process and measurement noise, each of the four coordinates is an independent
    position/velocity pair, so the 8x8 covariance is stored as its three distinct entries per coordinate
    (``pp``, ``pv``, ``vv``, each ``(N, 4)``); this is the exact Kalman filter, without 8x8 matrix algebra.

    Rows are positional: the owner keeps its own list aligned with the rows and calls :meth:`keep` to drop rows.

    Args:
        pos_std: process noise of the position and size, as a fraction of the box height per reference frame.
        vel_std: process noise of the velocity, as a fraction of the box height per reference frame.
        meas_std: measurement noise, as a fraction of the box height.
        ref_fps: the frame rate at which the ``*_std`` figures are defined (noise variance scales with ``dt``).
    """

    def __init__(
        self, pos_std: float = 1 / 20, vel_std: float = 1 / 160, meas_std: float = 1 / 20, ref_fps: float = 30.0
    ) -> None:
        self._pos_std = pos_std
        self._vel_std = vel_std
        self._meas_std = meas_std
        self._ref_fps = ref_fps
        self.pos = np.zeros((0, _NDIM))  # cx, cy, w, h
        self.vel = np.zeros((0, _NDIM))  # per second
        self.pp = np.zeros((0, _NDIM))  # var(position)
        self.pv = np.zeros((0, _NDIM))  # cov(position, velocity)
        self.vv = np.zeros((0, _NDIM))  # var(velocity)

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    def add(self, boxes_cxcywh: np.ndarray) -> None:
        """Append one filter per ``[cx, cy, w, h]`` row, at rest, with a wide velocity uncertainty."""
        z = np.asarray(boxes_cxcywh, dtype=np.float64).reshape(-1, _NDIM)
        if not len(z):
            return
        h = np.maximum(z[:, 3:4], 1.0) * np.ones((1, _NDIM))
        self.pos = np.concatenate([self.pos, z])
        self.vel = np.concatenate([self.vel, np.zeros_like(z)])
        self.pp = np.concatenate([self.pp, (2 * self._pos_std * h) ** 2])
        self.pv = np.concatenate([self.pv, np.zeros_like(z)])
        self.vv = np.concatenate([self.vv, (10 * self._vel_std * self._ref_fps * h) ** 2])

    def predict(self, dt: float, freeze_size: np.ndarray | None = None) -> None:
        """Advance every filter by ``dt`` seconds; rows in ``freeze_size`` get their size velocity zeroed first."""
        if dt <= 0 or not len(self):
            return
        if freeze_size is not None and freeze_size.any():
            self.vel[freeze_size, 2:] = 0.0
        steps = dt * self._ref_fps  # variance grows linearly with time, in reference frames
        h2 = (np.maximum(self.pos[:, 3:4], 1.0)) ** 2
        self.pos += dt * self.vel
        self.pp += 2 * dt * self.pv + dt * dt * self.vv + self._pos_std**2 * steps * h2
        self.pv += dt * self.vv
        self.vv += (self._vel_std * self._ref_fps) ** 2 * steps * h2
        np.maximum(self.pos[:, 2:], 1.0, out=self.pos[:, 2:])

    def update(self, rows: np.ndarray, boxes_cxcywh: np.ndarray) -> None:
        """Correct the filters at ``rows`` (sorted, unique) with their measured ``[cx, cy, w, h]`` boxes."""
        if not len(rows):
            return
        z = np.asarray(boxes_cxcywh, dtype=np.float64).reshape(-1, _NDIM)
        if len(rows) == len(self):  # every track measured: whole-array views instead of gathers and scatters
            rows = slice(None)  # type: ignore[assignment]
        pp, pv, vv = self.pp[rows], self.pv[rows], self.vv[rows]
        s = pp + (self._meas_std * np.maximum(self.pos[rows, 3:4], 1.0)) ** 2
        kp, kv = pp / s, pv / s
        innovation = z - self.pos[rows]
        self.pos[rows] += kp * innovation
        self.vel[rows] += kv * innovation
        new_pp, new_pv, new_vv = pp - kp * pp, pv - kp * pv, vv - kv * pv  # before writing: pp/pv may be views
        self.pp[rows], self.pv[rows], self.vv[rows] = new_pp, new_pv, new_vv

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where ``mask`` is False."""
        self.pos, self.vel = self.pos[mask], self.vel[mask]
        self.pp, self.pv, self.vv = self.pp[mask], self.pv[mask], self.vv[mask]

    def boxes_xyxy(self) -> np.ndarray:
        """The predicted boxes as ``(N, 4)`` ``[x1, y1, x2, y2]``."""
        c, half = self.pos[:, 0:2], self.pos[:, 2:4] / 2
        return np.concatenate([c - half, c + half], axis=1)
