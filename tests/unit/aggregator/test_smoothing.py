"""EmotionSmoother: dt-aware EMA, HMM filter, hysteresis timing on PTS, unknown frames."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emostream.aggregator.smoothing import EmotionSmoother, SmootherConfig, SmoothingMethod
from emostream.core.labels import EMOTIONS, UNKNOWN

HAPPY, SAD = EMOTIONS.index("happy"), EMOTIONS.index("sad")


@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0])
def test_ema_time_constant_is_in_seconds(probs, fps: float) -> None:
    tau = 0.5
    s = EmotionSmoother(SmootherConfig(tau_s=tau, min_hold_ms=0))
    s.update(probs("happy", 1.0), 0.0)
    n = round(tau * fps)
    for i in range(1, n + 1):
        out = s.update(probs("sad", 1.0), i / fps)
    assert out.probabilities is not None
    assert out.probabilities[SAD] == pytest.approx(1 - math.exp(-1), abs=1e-6)
    assert out.probabilities.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("fps", "hold_ms", "method"),
    [
        (30.0, 0.0, SmoothingMethod.NONE),
        (30.0, 200.0, SmoothingMethod.NONE),
        (25.0, 500.0, SmoothingMethod.NONE),
        (60.0, 300.0, SmoothingMethod.NONE),
    ],
)
def test_hysteresis_switches_after_min_hold(probs, fps: float, hold_ms: float, method: SmoothingMethod) -> None:
    s = EmotionSmoother(SmootherConfig(method=method, min_hold_ms=hold_ms))
    labels, changed_at = [], []
    for i in range(int(2 * fps)):
        pts = i / fps
        out = s.update(probs("happy" if pts < 0.5 else "sad"), pts)
        labels.append(out.label)
        if out.changed:
            changed_at.append(pts)
    assert changed_at[0] == 0.0  # the first usable frame shows its label at once
    first_sad = math.ceil(0.5 * fps) / fps
    assert changed_at[1] == pytest.approx(first_sad + math.ceil(hold_ms / 1000 * fps - 1e-9) / fps)
    assert labels[-1] == "sad"


def test_short_blip_does_not_change_label(probs) -> None:
    s = EmotionSmoother(SmootherConfig(method=SmoothingMethod.NONE, min_hold_ms=200))
    seq = ["happy"] * 10 + ["sad"] * 5 + ["happy"] * 10  # 5 frames at 30 fps = 167 ms < 200 ms
    out = [s.update(probs(lab), i / 30).label for i, lab in enumerate(seq)]
    assert set(out) == {"happy"}


def test_unknown_frames_do_not_corrupt_state(probs) -> None:
    s = EmotionSmoother(SmootherConfig(tau_s=0.2, min_hold_ms=0))
    for i in range(10):
        before = s.update(probs("happy"), i / 30)
    for i in range(10, 20):
        out = s.update(None, i / 30)
        assert (out.label, out.probabilities, out.confidence, out.changed) == (UNKNOWN, None, 0.0, False)
    assert s.label == "happy"
    cur = s.current()
    assert before.probabilities is not None and cur.probabilities is not None
    np.testing.assert_array_equal(cur.probabilities, before.probabilities)
    assert s.update(probs("happy"), 20 / 30).label == "happy"


def test_state_resets_after_a_long_gap(probs) -> None:
    s = EmotionSmoother(SmootherConfig(tau_s=5.0, min_hold_ms=0, reset_after_s=1.0))
    s.update(probs("happy", 1.0), 0.0)
    out = s.update(probs("sad", 1.0), 3.0)
    assert out.probabilities is not None and out.probabilities[SAD] == pytest.approx(1.0)
    assert out.label == "sad" and out.changed


@pytest.mark.parametrize(("hold_ms", "max_flips"), [(0.0, 4), (300.0, 0)])
def test_hmm_suppresses_flicker_and_stays_normalised(probs, hold_ms: float, max_flips: int) -> None:
    rng = np.random.default_rng(0)
    s = EmotionSmoother(SmootherConfig(method=SmoothingMethod.HMM, min_hold_ms=hold_ms, switch_rate_hz=0.5))
    raw_flips = hmm_flips = 0
    prev_raw = prev = None
    for i in range(300):  # mostly happy, 30% of frames a confident wrong label
        lab = "happy" if rng.random() > 0.3 else str(rng.choice(["sad", "angry", "neutral"]))
        out = s.update(probs(lab, 0.6), i / 30)
        assert out.probabilities is not None
        assert out.probabilities.sum() == pytest.approx(1.0)
        raw_flips += prev_raw is not None and lab != prev_raw
        hmm_flips += prev is not None and out.label != prev
        prev_raw, prev = lab, out.label
    assert raw_flips > 50
    assert hmm_flips <= max_flips < raw_flips / 10
    assert prev == "happy"


def test_switch_margin(probs) -> None:
    s = EmotionSmoother(SmootherConfig(method=SmoothingMethod.NONE, min_hold_ms=0, switch_margin=0.2))
    s.update(probs("happy", 0.9), 0.0)
    p = np.zeros(7, np.float32)
    p[HAPPY], p[SAD] = 0.45, 0.55
    assert s.update(p, 0.1).label == "happy"
    p[HAPPY], p[SAD] = 0.3, 0.7
    assert s.update(p, 0.2).label == "sad"


def test_rivals_taking_turns_still_end_a_stale_label(probs) -> None:
    # after a smile, fear and neutral alternate as leader: neither holds the lead for 300 ms alone,
    # but happy has lost it for longer than that, so it must not stay on screen
    s = EmotionSmoother(SmootherConfig(method=SmoothingMethod.NONE, min_hold_ms=300))
    seq = ["happy"] * 10 + ["fear", "fear", "neutral", "neutral"] * 5
    out = [s.update(probs(lab), i / 30).label for i, lab in enumerate(seq)]
    assert out[9] == "happy"
    switched = next(i for i, label in enumerate(out) if label != "happy")
    assert out[switched] in {"fear", "neutral"}
    assert (switched - 10) / 30 * 1000 <= 300 + 1000 / 30
