"""The architectures: each builds for 7 and 6 classes and ends in logits; emonet_deep stays in its budget."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from training import models  # noqa: E402
from training.report.macs import count_macs  # noqa: E402


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
@pytest.mark.parametrize("classes", [7, 6])
def test_every_architecture_maps_faces_to_one_logit_a_class(name: str, classes: int) -> None:
    model = models.build(name, classes)
    faces = np.random.default_rng(0).random((2, *models.INPUT_SHAPE), dtype=np.float32)
    assert tuple(model(faces).shape) == (2, classes)


def test_an_unknown_architecture_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="unknown architecture 'resnet9000'"):
        models.build("resnet9000")


def macs(name: str) -> int:
    return sum(entry.macs for entry in count_macs(models.build(name)))


def test_emonet_deep_adds_two_blocks_to_emonet_wide() -> None:
    wide, deep = models.build("emonet_wide"), models.build("emonet_deep")
    blocks = {layer.name.split("_")[0] for layer in deep.layers if layer.name.endswith("_add")}
    assert blocks == {"s1b1", "s2b1", "s2b2", "s3b1", "s3b2", "s4b1"}
    # each extra 3x3 block is 2 convolutions of 9 * C * C MACs at side S, with C * S = 96 * 12 = 192 * 6
    extra_block = 2 * 9 * 96 * 96 * 12 * 12
    assert macs("emonet_deep") - macs("emonet_wide") == 2 * extra_block
    assert deep.count_params() < 1.4 * wide.count_params()


def test_resnet18_has_two_blocks_a_stage_and_its_published_size() -> None:
    model = models.build("resnet18")
    blocks = sorted(layer.name.split("_")[0] for layer in model.layers if layer.name.endswith("_add"))
    assert blocks == [f"s{stage}b{block}" for stage in range(1, 5) for block in (1, 2)]
    # ResNet-18's 11.2 M parameters less its ImageNet head and 7x7 stem, at 48x48 behind a stride-2 stem
    assert 10.5e6 < model.count_params() < 11.5e6
    assert 0.25e9 < macs("resnet18") < 0.4e9
