"""The drift check: a common offset added to all logits shows in their size and the kernel's class mean, not in
their spread (what the softmax sees)."""

from __future__ import annotations

import numpy as np

from training.logit_drift import Drift, format_table, measure


def test_a_common_offset_grows_the_logits_but_not_their_spread() -> None:
    import keras

    from training.models import build

    keras.utils.set_random_seed(0)
    model = build("emonet_small", 7)
    images = np.random.default_rng(0).random((16, 48, 48, 1), dtype=np.float32)
    before = measure(model, images)
    logits = model.get_layer("logits")
    kernel = np.asarray(logits.kernel)
    logits.kernel.assign(kernel + 3.0)  # the same added to every class's column: a shift of all logits together
    after = measure(model, images)
    assert after.largest_logit > before.largest_logit + 1.0
    np.testing.assert_allclose(after.logit_spread, before.logit_spread, rtol=1e-3)
    np.testing.assert_allclose(after.feature_norm, before.feature_norm, rtol=1e-5)
    np.testing.assert_allclose(after.kernel_class_mean, np.linalg.norm(kernel.mean(axis=1) + 3.0), rtol=1e-5)


def test_the_table_has_a_row_a_checkpoint() -> None:
    table = format_table([("a/resume.npz", Drift(2.9, 4.0, 2.1, 0.34)), ("b/resume.npz", Drift(651, 5.5, 25.5, 25.7))])
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[2] == "a/resume.npz | 2.9 | 4.0 | 2.1 | 0.34"
    assert lines[3].startswith("b/resume.npz | 651.0 | 5.5")
