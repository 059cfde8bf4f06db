"""Bounded image decoding: the header is read first, and an image over the pixel limit is refused
before a single pixel is decoded (a 20000x20000 PNG would otherwise take 1.2 GB)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from emostream.core.errors import ImageDecodeError

MAX_PIXELS = 40_000_000  # 40 MP: larger than any camera photo a user would analyze
MAX_BYTES = 64 * 1024 * 1024


def _header_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone; Pillow's own bomb check is replaced by ours."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(io.BytesIO(data)) as header:
            return header.size
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def decode_image(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Encoded bytes (JPEG, PNG, BMP, WebP, ...) -> (H, W, 3) uint8 BGR, or ImageDecodeError."""
    if not data:
        raise ImageDecodeError(f"{name}: empty image (0 bytes)")
    if len(data) > MAX_BYTES:
        raise ImageDecodeError(f"{name}: {len(data)} bytes is over the {MAX_BYTES}-byte limit")
    try:
        width, height = _header_size(data)
    except (UnidentifiedImageError, OSError) as error:
        raise ImageDecodeError(f"{name}: not a readable image ({error.__class__.__name__})") from error
    if width * height > max_pixels:
        raise ImageDecodeError(f"{name}: {width}x{height} is over the {max_pixels:,}-pixel decode limit")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageDecodeError(f"{name}: corrupt image data")
    return image


def read_image(path: Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    if not path.exists():
        raise ImageDecodeError(f"{path}: no such file")
    if not path.is_file():
        raise ImageDecodeError(f"{path}: not a file")
    return decode_image(path.read_bytes(), str(path), max_pixels)
