"""Per-track smoothing of emotion probabilities over presentation time, with hysteresis on the shown label.

Two filters, both aware of the time step between frames (from PTS, so any frame rate gives the same result):

* ``ema``: exponential moving average with time constant ``tau_s``: ``alpha = 1 - exp(-dt / tau_s)``.
* ``hmm``: forward filter of a hidden Markov model whose emotion switches at ``switch_rate_hz`` (to any class
  uniformly); the classifier's probabilities, tempered by ``evidence_power`` per 1/30 s (the exponent grows with
  the time step, capped at 1, so consecutive, correlated frames at a high frame rate do not count as more
  evidence per second), are the observation likelihoods.

Hysteresis: the shown label changes only when other classes have led the smoothed probabilities (by at least
``switch_margin``) for ``min_hold_ms`` without interruption; it then changes to the one leading. A frame whose
face is unusable (probabilities None) gets the label ``unknown`` and leaves the smoothed state untouched; after
``reset_after_s`` without a usable frame the state starts afresh.

Example:
    >>> import numpy as np
    >>> s = EmotionSmoother(SmootherConfig(tau_s=0.2, min_hold_ms=100))
    >>> happy = np.array([0, 0, 0, 0.9, 0, 0, 0.1], np.float32)
    >>> s.update(happy, 0.0).label
    'happy'
    >>> s.update(None, 0.04).label
    'unknown'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from emostream.core.labels import EMOTIONS, UNKNOWN

_REF_FPS = 30.0


class SmoothingMethod(StrEnum):
    """How probabilities are filtered over time."""

    EMA = "ema"
    HMM = "hmm"
    NONE = "none"


class SmootherConfig(BaseModel):
    """Tuning of :class:`EmotionSmoother`. Unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: SmoothingMethod = SmoothingMethod.EMA
    tau_s: float = Field(default=0.3, gt=0, description="EMA time constant in seconds")
    switch_rate_hz: float = Field(default=1.0, gt=0, description="HMM: expected emotion changes per second")
    evidence_power: float = Field(
        default=0.5, gt=0, le=1, description="HMM: exponent on the probabilities per 1/30 s (scaled by dt, max 1)"
    )
    min_hold_ms: float = Field(default=300.0, ge=0, description="a new label must lead this long before it is shown")
    switch_margin: float = Field(default=0.0, ge=0, le=1, description="and lead the shown label by at least this much")
    reset_after_s: float = Field(
        default=2.0, gt=0, description="forget the state after this long without a usable face"
    )


@dataclass(frozen=True, slots=True)
class SmoothedEmotion:
    """The smoother's output for one frame. ``probabilities`` is None (and label ``unknown``) for unusable faces."""

    probabilities: np.ndarray | None
    label: str
    confidence: float
    changed: bool  # the shown emotion label changed at this frame (never for ``unknown`` frames)


class EmotionSmoother:
    """Smooths one track's probabilities; create one per track. Feed frames in PTS order."""

    def __init__(self, config: SmootherConfig | None = None, classes: Sequence[str] = EMOTIONS) -> None:
        self.config = config or SmootherConfig()
        self.classes = tuple(classes)
        self._state: np.ndarray | None = None
        self._last_pts: float | None = None  # last usable frame
        self._shown: int | None = None
        self._candidate: int | None = None
        self._candidate_since = 0.0

    @property
    def label(self) -> str | None:
        """The shown emotion label (ignoring unusable frames), or None before the first usable frame."""
        return None if self._shown is None else self.classes[self._shown]

    def current(self) -> SmoothedEmotion:
        """The current state without a new observation (for frames where the face was not detected)."""
        if self._state is None or self._shown is None:
            return SmoothedEmotion(None, UNKNOWN, 0.0, False)
        return SmoothedEmotion(self._state.copy(), self.classes[self._shown], float(self._state[self._shown]), False)

    def update(self, probabilities: np.ndarray | None, pts: float) -> SmoothedEmotion:
        """Fold in one frame's probabilities (None when the face is unusable) at ``pts`` seconds."""
        if probabilities is None:
            return SmoothedEmotion(None, UNKNOWN, 0.0, False)
        p = np.asarray(probabilities, dtype=np.float64)
        if self._state is not None and self._last_pts is not None and pts - self._last_pts > self.config.reset_after_s:
            self._state = None
        dt = 0.0 if self._last_pts is None else max(pts - self._last_pts, 0.0)
        self._last_pts = pts
        self._state = p.copy() if self._state is None else self._filter(self._state, p, dt)
        return self._hysteresis(pts)

    def _filter(self, state: np.ndarray, p: np.ndarray, dt: float) -> np.ndarray:
        cfg = self.config
        if cfg.method is SmoothingMethod.NONE:
            return p.copy()
        if cfg.method is SmoothingMethod.EMA:
            alpha = 1.0 - math.exp(-dt / cfg.tau_s)
            return state + alpha * (p - state)
        stay = math.exp(-cfg.switch_rate_hz * dt)
        prior = stay * state + (1.0 - stay) / len(state)  # A^T b with A = stay*I + (1-stay)/K
        exponent = min(1.0, cfg.evidence_power * dt * _REF_FPS)
        post = prior * np.power(np.maximum(p, 1e-6), exponent)
        return post / post.sum()

    def _hysteresis(self, pts: float) -> SmoothedEmotion:
        state = self._state
        assert state is not None
        lead = int(np.argmax(state))
        changed = False
        if self._shown is None:
            self._shown, changed = lead, True
            self._candidate = None
        elif lead == self._shown or state[lead] - state[self._shown] < self.config.switch_margin:
            self._candidate = None
        else:
            # the hold counts from when the shown label lost the lead, whichever labels led since:
            # two rivals taking turns must not keep a label shown that neither of them supports
            if self._candidate is None:
                self._candidate, self._candidate_since = lead, pts
            if (pts - self._candidate_since) * 1000.0 >= self.config.min_hold_ms - 1e-6:
                self._shown, changed = lead, True
                self._candidate = None
        return SmoothedEmotion(state.copy(), self.classes[self._shown], float(state[self._shown]), changed)
