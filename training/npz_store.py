"""Named arrays in compressed ``.npz`` files that each stay under the repository's size limit for one file.

A checkpoint that fits is one file, as ``np.savez_compressed`` writes it. A larger one (ResNet-18's resume state is
58 MB) is split by whole arrays into ``NAME.npz`` and ``NAME.1.npz``, ``NAME.2.npz`` ...; ``NAME.npz`` records how
many parts there are, and every part carries the same token, so that parts from two different saves (a call
stopped between two renames) are refused rather than mixed. Readers go through :func:`load_arrays` and never see
the split. Every part is written to a temporary file first and renamed into place, the first part last.

    python -m training.npz_store split training/checkpoints/resnet18-teacher/resume.npz

re-saves an existing file under the limit (a file written before the split existed, or with a larger limit).
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

MAX_PART_BYTES = 16 * 2**20  # uncompressed bytes a part; float weights barely compress, so a file stays near this
REPO_FILE_LIMIT_BYTES = 20_000_000  # no tracked file above this (tests/unit/test_repo_files.py)
PARTS_KEY = "__parts__"
TOKEN_KEY = "__token__"


def part_path(path: Path, index: int) -> Path:
    """``NAME.npz`` for part 0, ``NAME.<index>.npz`` for the others."""
    return path if index == 0 else path.with_name(f"{path.stem}.{index}.npz")


def _tmp_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.tmp.npz")  # git-ignored (*.tmp.npz)


def group_by_size(arrays: Mapping[str, np.ndarray], max_part_bytes: int) -> list[dict[str, np.ndarray]]:
    """Split ``arrays`` into consecutive groups of whole arrays, each at most ``max_part_bytes`` uncompressed."""
    groups: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for name, value in arrays.items():
        if value.nbytes > max_part_bytes:
            raise ValueError(
                f"array {name!r} ({value.nbytes:,} bytes, shape {value.shape}) is larger than a part may be "
                f"({max_part_bytes:,} bytes)"
            )
        if groups[-1] and size + value.nbytes > max_part_bytes:
            groups.append({})
            size = 0
        groups[-1][name] = value
        size += value.nbytes
    return groups


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray], max_part_bytes: int = MAX_PART_BYTES) -> list[Path]:
    """Write ``arrays`` to ``path`` (and its further parts where they do not fit one); returns the files written."""
    for reserved in (PARTS_KEY, TOKEN_KEY):
        if reserved in arrays:
            raise ValueError(f"{reserved!r} is a reserved array name")
    groups = group_by_size(arrays, max_part_bytes)
    token = np.frombuffer(secrets.token_bytes(8), np.uint64).copy()
    paths = [part_path(path, i) for i in range(len(groups))]
    tmps = [_tmp_path(p) for p in paths]
    for index, (group, tmp) in enumerate(zip(groups, tmps, strict=True)):
        extra: dict[str, np.ndarray] = {PARTS_KEY: np.array(len(groups), np.int64)} if index == 0 else {}
        if len(groups) > 1:
            extra[TOKEN_KEY] = token
        np.savez_compressed(tmp, **group, **extra)  # type: ignore[arg-type]
    for tmp, final in reversed(list(zip(tmps, paths, strict=True))):  # the first part, which names the rest, last
        tmp.replace(final)
    for stale in _parts_after(path, len(groups)):
        stale.unlink()
    return paths


def _parts_after(path: Path, count: int) -> Iterator[Path]:
    index = count
    while part_path(path, index).is_file():
        yield part_path(path, index)
        index += 1


def part_count(path: Path) -> int:
    """How many files ``path`` is stored in (1 for a plain ``.npz``)."""
    with np.load(path) as data:
        return int(data[PARTS_KEY]) if PARTS_KEY in data.files else 1


def stored_sha256(path: Path) -> str:
    """The sha256 of what ``path`` is stored in: its bytes for one file (so it matches ``sha256sum``), else the
    bytes of all its parts in order."""
    from training.data import file_sha256

    count = part_count(path) if path.suffix == ".npz" else 1
    return file_sha256(*(part_path(path, index) for index in range(count)))


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array :func:`save_arrays` wrote to ``path`` (or a plain ``.npz``), whatever the number of parts."""
    arrays: dict[str, np.ndarray] = {}
    with np.load(path) as first:
        count = int(first[PARTS_KEY]) if PARTS_KEY in first.files else 1
        token = first[TOKEN_KEY] if TOKEN_KEY in first.files else None
        arrays.update((k, first[k]) for k in first.files if k not in (PARTS_KEY, TOKEN_KEY))
    for index in range(1, count):
        part = part_path(path, index)
        if not part.is_file():
            raise FileNotFoundError(f"{path} is stored in {count} parts; part {part} is missing")
        with np.load(part) as data:
            if token is None or TOKEN_KEY not in data.files or not np.array_equal(data[TOKEN_KEY], token):
                raise ValueError(f"{part} belongs to another save than {path}: the parts were written by two calls")
            arrays.update((k, data[k]) for k in data.files if k != TOKEN_KEY)
    return arrays


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    split = commands.add_parser("split", help="re-save .npz files in parts under the size limit")
    split.add_argument("paths", type=Path, nargs="+")
    split.add_argument("--max-part-bytes", type=int, default=MAX_PART_BYTES)
    args = parser.parse_args(argv)
    for path in args.paths:
        written = save_arrays(path, load_arrays(path), args.max_part_bytes)
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in written)
        print(f"{path}: {len(written)} part(s): {sizes}")


if __name__ == "__main__":
    main()
