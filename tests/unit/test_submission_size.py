"""``tools/submission_size.py`` on a real git repository the test makes: packed size, diff bound, the verdict."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submission_size", ROOT / "tools" / "submission_size.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True, text=True).stdout.strip()


def _commit(repo: Path, files: dict[str, bytes | None], message: str) -> str:
    for name, content in files.items():
        if content is None:
            _git(repo, "rm", "-q", name)
        else:
            (repo / name).write_bytes(content)
            _git(repo, "add", name)
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    return tmp_path


def test_diffs_count_added_changed_and_removed_files(repo: Path) -> None:
    base = _commit(repo, {"keep.txt": b"k" * 100}, "base")
    _commit(repo, {"state.bin": os.urandom(3000)}, "add")  # counts 3000
    _commit(repo, {"state.bin": os.urandom(5000)}, "change")  # counts 3000 + 5000
    _commit(repo, {"state.bin": None}, "remove")  # counts 5000
    size = tool.measure(repo, base)
    assert size.commits == 3
    assert size.diff_bytes == 3000 + 3000 + 5000 + 5000
    assert size.packed_bytes > 8000  # both random (incompressible) versions travel
    assert [path for _, _, path in size.largest] == ["state.bin"] * 3


def test_nothing_new_is_an_empty_submission(repo: Path) -> None:
    base = _commit(repo, {"a.txt": b"a"}, "base")
    size = tool.measure(repo, base)
    assert (size.commits, size.diff_bytes) == (0, 0)


@pytest.mark.parametrize(
    ("packed", "diff", "status", "words"),
    [
        (10 * tool.MIB, 10 * tool.MIB, 0, "ok"),
        (10 * tool.MIB, 200 * tool.MIB, 0, "warning"),
        (600 * tool.MIB, 10 * tool.MIB, 1, "OVER THE LIMIT"),
        (10 * tool.MIB, 257 * tool.MIB, 1, "OVER THE LIMIT"),
    ],
)
def test_the_verdict_follows_the_limits(packed: int, diff: int, status: int, words: str) -> None:
    text, code = tool.report(tool.SubmissionSize(2, packed, diff, []), warn=0.75)
    assert code == status
    assert words in text


def test_the_command_exits_1_over_a_limit(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = _commit(repo, {"a.txt": b"a"}, "base")
    _commit(repo, {"b.bin": os.urandom(4096)}, "b")
    assert tool.main([base, "--repo", str(repo)]) == 0
    monkeypatch.setattr(tool, "DIFF_LIMIT_BYTES", 1024)
    assert tool.main([base, "--repo", str(repo)]) == 1
    with pytest.raises(SystemExit):
        tool.main(["no-such-commit", "--repo", str(repo)])
