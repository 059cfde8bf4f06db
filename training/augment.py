"""Training-time augmentation of 48x48 face crops, in NumPy/OpenCV so it runs on any Keras backend."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 48


@dataclass(frozen=True)
class AugmentConfig:
    flip: float = 0.5  # probability of a horizontal flip
    rotate_deg: float = 15.0
    scale: float = 0.15  # zoom in [1 - scale, 1 + scale]
    shift: float = 0.1  # fraction of the side
    brightness: float = 0.25  # additive, fraction of 255
    contrast: float = 0.3  # multiplicative, around the mean
    erase: float = 0.4  # probability of random erasing
    erase_area: tuple[float, float] = (0.02, 0.15)


def augment_batch(images: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Randomly transform a (N, 48, 48) uint8 batch; returns float32 in [0, 1], shape (N, 48, 48)."""
    out = np.empty(images.shape, dtype=np.float32)
    centre = (SIZE / 2 - 0.5, SIZE / 2 - 0.5)
    for index, image in enumerate(images):
        angle = rng.uniform(-config.rotate_deg, config.rotate_deg)
        scale = rng.uniform(1 - config.scale, 1 + config.scale)
        matrix: np.ndarray = np.asarray(cv2.getRotationMatrix2D(centre, angle, scale), dtype=np.float64)
        matrix[:, 2] += rng.uniform(-config.shift, config.shift, size=2) * SIZE
        if rng.random() < config.flip:
            matrix[0] = -matrix[0]
            matrix[0, 2] += SIZE - 1
        warped = cv2.warpAffine(image, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        pixels = warped.astype(np.float32) / 255.0
        mean = pixels.mean()
        pixels = (pixels - mean) * rng.uniform(1 - config.contrast, 1 + config.contrast) + mean
        pixels += rng.uniform(-config.brightness, config.brightness)
        if rng.random() < config.erase:
            _erase(pixels, rng, config.erase_area)
        out[index] = np.clip(pixels, 0.0, 1.0)
    return out


def _erase(pixels: np.ndarray, rng: np.random.Generator, area_range: tuple[float, float]) -> None:
    area = rng.uniform(*area_range) * SIZE * SIZE
    aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
    height = min(SIZE, round(np.sqrt(area * aspect)))
    width = min(SIZE, round(np.sqrt(area / aspect)))
    top = rng.integers(0, SIZE - height + 1)
    left = rng.integers(0, SIZE - width + 1)
    pixels[top : top + height, left : left + width] = rng.random((height, width), dtype=np.float32)


def mixup(
    images: np.ndarray, targets: np.ndarray, rng: np.random.Generator, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mixup: convex blends of pairs in the batch (images and soft targets alike)."""
    lam = rng.beta(alpha, alpha, size=(len(images), 1)).astype(np.float32)
    lam = np.maximum(lam, 1 - lam)  # keep the original sample dominant
    order = rng.permutation(len(images))
    mixed_images = lam[:, :, None] * images + (1 - lam[:, :, None]) * images[order]
    return mixed_images, lam * targets + (1 - lam) * targets[order]
