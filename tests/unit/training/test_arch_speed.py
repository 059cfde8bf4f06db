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


def test_an_architecture_may_be_named_instead_of_a_layout() -> None:
    pytest.importorskip("keras")
    from training.arch_speed import check_layout

    check_layout("emonet_slim")
    check_layout("1111")
    with pytest.raises(ValueError, match="or an architecture's name"):
        check_layout("emonet_huge")
