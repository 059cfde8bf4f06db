"""How big a stop's submission is: the commits in ``BASE..HEAD``, packed and as diffs, against the limits.

A stop that submits more than 512 MiB packed, or more than 256 MiB of diffs summed over its commits, is refused
whole, and every commit in it is lost (epochs 25-67 of ``resnet18-teacher`` were lost so on 12-07: each session
committed its ~58 MB state several times). Run this before stopping, with BASE the commit main was at when the
session began:

    python tools/submission_size.py 6f6d62c

The diff figure is an upper bound taken per commit: an added file counts its new size, a removed one its old size,
a changed one both (a binary file's diff carries both versions). It exits 1 when either figure is over the limit,
and warns from ``--warn`` (75%) of it on.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
PACKED_LIMIT_BYTES = 512 * MIB
DIFF_LIMIT_BYTES = 256 * MIB
NULL_BLOB = "0" * 40


@dataclass(frozen=True)
class SubmissionSize:
    commits: int
    packed_bytes: int
    diff_bytes: int
    largest: list[tuple[int, str, str]]  # (bytes counted, commit, path), largest first


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True).stdout


def blob_sizes(repo: Path, blobs: set[str]) -> dict[str, int]:
    """Each blob's size in bytes (one ``git cat-file --batch-check`` call)."""
    wanted = sorted(blobs - {NULL_BLOB})
    if not wanted:
        return {}
    out = _git(repo, "cat-file", "--batch-check=%(objectname) %(objectsize)", stdin="\n".join(wanted).encode() + b"\n")
    return {name: int(size) for name, size in (line.split() for line in out.decode().splitlines())}


def commit_changes(repo: Path, commit: str) -> list[tuple[str, str, str]]:
    """(old blob, new blob, path) for every file the commit changes against its first parent (or the empty
    tree, for a root commit)."""
    args = ["diff-tree", "-r", "-z", "--no-commit-id", "--no-renames", "--root", "--diff-merges=first-parent"]
    fields = _git(repo, *args, commit).decode().split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(":"):
            _, _, old, new, _ = meta[1:].split(" ")
            changes.append((old, new, path))
    return changes


def measure(repo: Path, base: str, head: str = "HEAD") -> SubmissionSize:
    commits = _git(repo, "rev-list", "--reverse", f"{base}..{head}").decode().split()
    per_commit = {commit: commit_changes(repo, commit) for commit in commits}
    sizes = blob_sizes(
        repo, {blob for changes in per_commit.values() for old, new, _ in changes for blob in (old, new)}
    )
    counted = [
        (sizes.get(old, 0) + sizes.get(new, 0), commit[:10], path)
        for commit, changes in per_commit.items()
        for old, new, path in changes
    ]
    packed = _git(repo, "pack-objects", "--revs", "--stdout", "-q", stdin=f"{head}\n^{base}\n".encode())
    return SubmissionSize(
        commits=len(commits),
        packed_bytes=len(packed),
        diff_bytes=sum(size for size, _, _ in counted),
        largest=sorted(counted, reverse=True)[:10],
    )


def report(size: SubmissionSize, warn: float) -> tuple[str, int]:
    """The report's text and the exit status: 1 over a limit, else 0."""
    lines = [f"{size.commits} commits"]
    status = 0
    for name, value, limit in (("packed", size.packed_bytes, PACKED_LIMIT_BYTES),
                               ("diffs", size.diff_bytes, DIFF_LIMIT_BYTES)):  # fmt: skip
        share = value / limit
        verdict = "OVER THE LIMIT: the stop would be refused" if share > 1 else "warning" if share >= warn else "ok"
        status = max(status, int(share > 1))
        lines.append(f"{name}: {value / MIB:.1f} MiB of {limit / MIB:.0f} MiB ({100 * share:.0f}%) {verdict}")
    lines += [f"  {bytes_ / MIB:8.1f} MiB  {commit}  {path}" for bytes_, commit, path in size.largest if bytes_ >= MIB]
    return "\n".join(lines), status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the commit main was at when the session began (what has landed)")
    parser.add_argument("--head", default="HEAD")
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    parser.add_argument("--warn", type=float, default=0.75, help="warn from this share of a limit on")
    args = parser.parse_args(argv)
    try:
        size = measure(args.repo, args.base, args.head)
    except subprocess.CalledProcessError as error:
        parser.error(f"git failed: {error.stderr.decode().strip()}")
    text, status = report(size, args.warn)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
