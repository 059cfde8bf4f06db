"""KalmanBoxBank equals the textbook 8x8 constant-velocity Kalman filter, and follows moving boxes."""

from __future__ import annotations

import numpy as np
import pytest

from emostream.aggregator.kalman import KalmanBoxBank


def _reference(z0: np.ndarray, steps: list[tuple[float, np.ndarray | None]]) -> np.ndarray:
    """Full-matrix filter with the same noise model (ByteTrack's, per second)."""
    ps, vs, ms, ref = 1 / 20, 1 / 160, 1 / 20, 30.0
    x = np.concatenate([z0, np.zeros(4)])
    h = z0[3]
    p = np.diag(np.r_[np.full(4, (2 * ps * h) ** 2), np.full(4, (10 * vs * ref * h) ** 2)])
    hm = np.eye(4, 8)
    for dt, z in steps:
        f = np.eye(8)
        f[:4, 4:] = dt * np.eye(4)
        h = x[3]
        q = np.diag(np.r_[np.full(4, (ps * h) ** 2 * dt * ref), np.full(4, (vs * ref * h) ** 2 * dt * ref)])
        x, p = f @ x, f @ p @ f.T + q
        if z is not None:
            s = hm @ p @ hm.T + np.eye(4) * (ms * x[3]) ** 2
            k = p @ hm.T @ np.linalg.inv(s)
            x, p = x + k @ (z - hm @ x), p - k @ s @ k.T
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("others", [0, 2])  # 0: whole-array path, 2: gather/scatter path
def test_matches_full_matrix_filter(seed: int, others: int) -> None:
    rng = np.random.default_rng(seed)
    z0 = np.array([100.0, 120.0, 50.0, 60.0])
    steps: list[tuple[float, np.ndarray | None]] = []
    for i in range(1, 40):
        z = None if rng.random() < 0.3 else z0 + np.array([3.0 * i, -1.0 * i, 0.2 * i, 0.2 * i]) + rng.normal(0, 2, 4)
        steps.append((float(rng.uniform(0.01, 0.1)), z))
    bank = KalmanBoxBank()
    bank.add(z0[None])
    bank.add(np.tile([300.0, 300.0, 40.0, 40.0], (others, 1)))
    for dt, z in steps:
        bank.predict(dt)
        if z is not None:
            bank.update(np.array([0]), z[None])
    expected = _reference(z0, steps)
    np.testing.assert_allclose(bank.pos[0], expected[:4], rtol=1e-9)
    np.testing.assert_allclose(bank.vel[0], expected[4:], rtol=1e-9)


def test_learns_velocity_and_keeps_rows() -> None:
    bank = KalmanBoxBank()
    bank.add(np.array([[0.0, 0.0, 40.0, 40.0], [500.0, 0.0, 40.0, 40.0]]))
    for i in range(1, 31):
        bank.predict(1 / 30)
        bank.update(np.array([0, 1]), np.array([[60.0 * i / 30, 0, 40, 40], [500.0, 0, 40, 40]]))
    assert bank.vel[0, 0] == pytest.approx(60.0, rel=0.1)
    bank.keep(np.array([False, True]))
    assert len(bank) == 1 and bank.boxes_xyxy()[0, 0] == pytest.approx(480.0, abs=1.0)
