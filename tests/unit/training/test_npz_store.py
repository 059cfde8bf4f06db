"""``training.npz_store``: arrays split into files under a size limit, read back whole, and mixed saves refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.npz_store import group_by_size, load_arrays, main, part_count, part_path, save_arrays


def _arrays(sizes: tuple[int, ...]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {f"w{i}": rng.normal(size=n).astype(np.float32) for i, n in enumerate(sizes)}


def _assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == list(want)
    for name, value in want.items():
        np.testing.assert_array_equal(got[name], value)
        assert got[name].dtype == value.dtype


def test_arrays_are_grouped_whole_in_order_under_the_limit() -> None:
    groups = group_by_size(_arrays((10, 10, 30, 5, 40)), max_part_bytes=160)  # float32: 40, 40, 120, 20, 160 bytes
    assert [list(g) for g in groups] == [["w0", "w1"], ["w2", "w3"], ["w4"]]


def test_an_array_larger_than_a_part_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"array 'w1' \(400 bytes, shape \(100,\)\) is larger than a part"):
        group_by_size(_arrays((1, 100)), max_part_bytes=200)


def test_a_small_state_is_one_plain_file(tmp_path: Path) -> None:
    arrays = _arrays((3, 4))
    assert save_arrays(tmp_path / "resume.npz", arrays) == [tmp_path / "resume.npz"]
    assert part_count(tmp_path / "resume.npz") == 1
    _assert_same(load_arrays(tmp_path / "resume.npz"), arrays)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resume.npz"]  # no temporary file left


def test_a_large_state_is_split_every_file_under_the_limit_and_read_back_whole(tmp_path: Path) -> None:
    arrays = _arrays((5000, 5000, 5000, 1000)) | {"step": np.array(1234, np.int64)}
    written = save_arrays(tmp_path / "resume.npz", arrays, max_part_bytes=25_000)
    assert written == [tmp_path / "resume.npz", tmp_path / "resume.1.npz", tmp_path / "resume.2.npz"]
    assert all(p.stat().st_size < 25_000 for p in written)  # random floats barely compress: the limit binds
    assert part_count(tmp_path / "resume.npz") == 3
    _assert_same(load_arrays(tmp_path / "resume.npz"), arrays)


def test_a_smaller_save_removes_the_parts_it_no_longer_needs(tmp_path: Path) -> None:
    path = tmp_path / "resume.npz"
    save_arrays(path, _arrays((5000, 5000, 5000)), max_part_bytes=25_000)
    save_arrays(path, _arrays((10, 10)), max_part_bytes=25_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resume.npz"]
    _assert_same(load_arrays(path), _arrays((10, 10)))


def test_parts_of_two_saves_are_refused_and_a_missing_part_is_named(tmp_path: Path) -> None:
    one, two = tmp_path / "one" / "resume.npz", tmp_path / "two" / "resume.npz"
    for path in (one, two):
        path.parent.mkdir()
        save_arrays(path, _arrays((5000, 5000)), max_part_bytes=25_000)
    part_path(two, 1).replace(part_path(one, 1))  # as if a call stopped between its renames
    with pytest.raises(ValueError, match=r"resume.1.npz belongs to another save"):
        load_arrays(one)
    with pytest.raises(FileNotFoundError, match=r"stored in 2 parts; part .*two/resume.1.npz is missing"):
        load_arrays(two)


def test_reserved_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        save_arrays(tmp_path / "x.npz", {"__parts__": np.zeros(1)})


def test_the_split_command_resaves_a_plain_file_in_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arrays = _arrays((5000, 5000, 5000))
    path = tmp_path / "resume.npz"
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # as written before parts existed
    main(["split", str(path), "--max-part-bytes", "25000"])
    assert "3 part(s): resume.npz" in capsys.readouterr().out
    assert part_count(path) == 3
    _assert_same(load_arrays(path), arrays)
