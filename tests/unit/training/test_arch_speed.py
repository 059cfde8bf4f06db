"""``training.arch_speed``'s layout strings: four digits, one a stage."""

from __future__ import annotations

import pytest

from training.arch_speed import parse_layout


def test_a_layout_is_the_blocks_of_each_stage() -> None:
    assert parse_layout("1221") == (1, 2, 2, 1)


@pytest.mark.parametrize("text", ["122", "12211", "12a1", "1021", ""])
def test_a_malformed_layout_says_what_a_layout_is(text: str) -> None:
    with pytest.raises(ValueError, match="4 digits from 1 to 9"):
        parse_layout(text)
