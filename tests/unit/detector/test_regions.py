from __future__ import annotations

import itertools

import numpy as np
import pytest

from emostream.detector.regions import around, fill, letterbox, shrink, tiles


@pytest.mark.parametrize(
    ("h", "w", "side", "overlap"), [(1080, 1920, 480, 128), (720, 1280, 640, 128), (300, 200, 480, 64)]
)
def test_tiles_cover_the_frame_with_the_overlap(h, w, side, overlap) -> None:
    regions = tiles(h, w, side, overlap)
    xs = sorted({r.x0 for r in regions})
    ys = sorted({r.y0 for r in regions})
    for starts, length in ((xs, w), (ys, h)):
        assert starts[0] <= 0 and starts[-1] + side >= length
        assert all(b - a <= side - overlap + 1e-6 for a, b in itertools.pairwise(starts))


def test_each_point_belongs_to_exactly_one_tile_core() -> None:
    regions = tiles(1080, 1920, 480, 128)
    rng = np.random.default_rng(0)
    for x, y in rng.uniform([0, 0], [1920, 1080], (200, 2)):
        owners = [r for r in regions if r.core[0] <= x < r.core[2] and r.core[1] <= y < r.core[3]]
        assert len(owners) == 1


def test_fill_maps_input_pixels_back_to_the_frame() -> None:
    frame = np.zeros((300, 600, 3), np.uint8)
    frame[140:160, 440:460] = 255  # a white square centred at (450, 150)
    out = np.zeros((128, 128, 3), np.uint8)
    mapping = fill(frame, letterbox(300, 600), out)
    ys, xs = np.nonzero(out[..., 0] > 127)
    centre = mapping.to_frame(np.array([xs.mean() + 0.5, ys.mean() + 0.5]))
    np.testing.assert_allclose(centre, [450, 150], atol=2.5)
    assert out[:20].max() == 0  # letterbox padding above the frame


def test_fill_region_partly_outside_pads_and_maps() -> None:
    frame = np.full((100, 100, 3), 200, np.uint8)
    out = np.zeros((64, 64, 3), np.uint8)
    mapping = fill(frame, around(0, 0, 100), out)  # centred on the top-left corner
    assert out[:31, :31].max() == 0 and out[34:, 34:].min() == 200
    np.testing.assert_allclose(mapping.to_frame(np.array([32.0, 32.0])), [0, 0], atol=1)


def test_fill_region_wholly_outside_is_padding() -> None:
    out = np.ones((16, 16, 3), np.uint8)
    fill(np.zeros((10, 10, 3), np.uint8), around(500, 500, 20), out)
    assert out.max() == 0


@pytest.mark.parametrize(
    ("src", "dst"), [((1080, 1920), (352, 640)), ((336, 596), (72, 128)), ((100, 100), (100, 100))]
)
def test_shrink_gives_the_requested_size_and_the_extent_used(src, dst) -> None:
    image = np.zeros((*src, 3), np.uint8)
    out, used_w, used_h = shrink(image, dst[1], dst[0])
    assert out.shape == (*dst, 3)
    assert src[1] - used_w < src[1] / dst[1] and src[0] - used_h < src[0] / dst[0]


def test_shrink_keeps_positions() -> None:
    image = np.zeros((1080, 1920), np.uint8)
    image[500:520, 1500:1520] = 255  # centre (1510, 510)
    out, used_w, used_h = shrink(image, 192, 108)
    ys, xs = np.nonzero(out > 40)
    weights = out[ys, xs].astype(float)
    cx = (np.average(xs, weights=weights) + 0.5) * used_w / 192
    cy = (np.average(ys, weights=weights) + 0.5) * used_h / 108
    assert abs(cx - 1510) < 5 and abs(cy - 510) < 5
