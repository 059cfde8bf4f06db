from __future__ import annotations

import numpy as np

from training.augment import AugmentConfig, augment_batch, mixup
from training.train import class_weights

NONE = AugmentConfig(flip=0, rotate_deg=0, scale=0, shift=0, brightness=0, contrast=0, erase=0)


def test_identity_config_keeps_the_image() -> None:
    images = np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    out = augment_batch(images, np.random.default_rng(1), NONE)
    assert out.dtype == np.float32 and out.shape == (4, 48, 48)
    assert np.allclose(out, images / 255.0, atol=1e-6)


def test_flip_mirrors() -> None:
    images = np.zeros((1, 48, 48), np.uint8)
    images[0, :, :10] = 255
    flipped = augment_batch(images, np.random.default_rng(0), AugmentConfig(**{**NONE.__dict__, "flip": 1.0}))
    assert flipped[0, :, -10:].mean() > 0.99 and flipped[0, :, :10].mean() < 0.01


def test_full_augmentation_stays_in_range_and_is_seeded() -> None:
    images = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    first = augment_batch(images, np.random.default_rng(5), AugmentConfig())
    second = augment_batch(images, np.random.default_rng(5), AugmentConfig())
    assert np.array_equal(first, second)
    assert first.min() >= 0.0 and first.max() <= 1.0


def test_mixup_keeps_targets_normalised() -> None:
    rng = np.random.default_rng(0)
    images, targets = rng.random((6, 48, 48), dtype=np.float32), np.eye(7, dtype=np.float32)[[0, 1, 2, 3, 4, 5]]
    mixed, mixed_targets = mixup(images, targets, rng, 0.4)
    assert mixed.shape == images.shape
    assert np.allclose(mixed_targets.sum(axis=1), 1.0)
    assert (mixed_targets.max(axis=1) >= 0.5).all()


def test_class_weights_favour_rare_classes() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    weights = class_weights(labels, 2, power=0.5)
    assert weights[1] > weights[0]
    assert abs(weights[labels].mean() - 1.0) < 1e-6
