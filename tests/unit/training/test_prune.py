"""``training.prune``: a block's weakest inner channels go, the rest of the network is copied as it is."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training.models import emonet  # noqa: E402
from training.prune import channel_importance, narrowed_blocks, prune_into, strongest  # noqa: E402

WIDTHS = (8, 16, 16, 16)


def test_importance_is_the_scale_times_how_strongly_the_next_convolution_reads_the_channel() -> None:
    gamma = np.array([1.0, -2.0, 0.5])
    kernel = np.zeros((3, 3, 3, 4))
    kernel[1, 1, 0, 0], kernel[0, 0, 1, :], kernel[2, 2, 2, 0] = 3.0, 1.0, 4.0
    np.testing.assert_allclose(channel_importance(gamma, kernel), [3.0, 4.0, 2.0])
    with pytest.raises(ValueError, match="does not read the 3 channels"):
        channel_importance(gamma, np.zeros((3, 3, 2, 4)))


def test_the_strongest_channels_are_kept_in_channel_order() -> None:
    np.testing.assert_array_equal(strongest(np.array([0.1, 5.0, 0.3, 2.0, 2.0]), 3), [1, 3, 4])
    with pytest.raises(ValueError, match="cannot keep 6 of 5"):
        strongest(np.ones(5), 6)


def test_channels_that_carry_nothing_are_cut_without_changing_a_single_output() -> None:
    source = emonet(7, WIDTHS, (1, 1, 1, 1))
    target = emonet(7, WIDTHS, (1, 1, 1, 1), inner_widths=(4, 8, 16, 12))
    rng = np.random.default_rng(0)
    dead: dict[str, np.ndarray] = {}
    for block, width, keep in (("s1b1", 8, 4), ("s2b1", 16, 8), ("s4b1", 16, 12)):
        bn = source.get_layer(f"{block}_a_bn")
        gamma, beta, mean, variance = (np.asarray(w) for w in bn.get_weights())
        dead[block] = np.sort(rng.permutation(width)[: width - keep])
        gamma[dead[block]], beta[dead[block]] = 0.0, -1.0  # relu(0 * x - 1) = 0: the channel outputs nothing
        bn.set_weights([gamma, beta, mean, variance + rng.random(width)])

    kept = prune_into(source, target)

    assert sorted(kept) == ["s1b1", "s2b1", "s4b1"] == narrowed_blocks(source, target)
    for block, indices in kept.items():
        assert not set(indices) & set(dead[block].tolist())
    faces = rng.random((4, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(target.predict(faces, verbose=0), source.predict(faces, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(target.get_layer("s3b1_a_conv").get_weights()[0],
                                  source.get_layer("s3b1_a_conv").get_weights()[0])  # fmt: skip


def test_a_network_that_differs_outside_the_blocks_is_refused() -> None:
    with pytest.raises(ValueError, match="stem1_conv differs in shape and is not inside a block"):
        narrowed_blocks(emonet(7, WIDTHS, (1, 1, 1, 1)), emonet(7, (12, 16, 16, 16), (1, 1, 1, 1)))
    with pytest.raises(ValueError, match="the networks differ in layers"):
        narrowed_blocks(emonet(7, WIDTHS, (1, 1, 1, 1)), emonet(7, WIDTHS, (1, 2, 1, 1)))
    with pytest.raises(ValueError, match="one width a stage"):
        emonet(7, WIDTHS, (1, 1, 1, 1), inner_widths=(4, 8))
