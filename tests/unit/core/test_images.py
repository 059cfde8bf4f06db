from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from emostream.core.errors import ImageDecodeError
from emostream.core.images import decode_image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height but holds one tiny IDAT: the header alone must be refused."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def test_decodes_a_real_jpeg() -> None:
    ok, encoded = cv2.imencode(".jpg", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    assert decode_image(encoded.tobytes()).shape == (40, 60, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty image"),
        (b"not an image at all", "not a readable image"),
        (png_header_only(20000, 20000), "20000x20000 is over"),
    ],
)
def test_bad_images_get_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ImageDecodeError, match=message):
        decode_image(data, "photo.png")
