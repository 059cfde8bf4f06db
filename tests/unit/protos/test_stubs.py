"""The committed stubs are what ``make protos`` generates from ``protos/emostream/v1`` today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "services" / "protos" / "v1"
GENERATED = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")


def _stubs(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for pattern in GENERATED for path in folder.glob(pattern)}


def test_committed_stubs_have_not_drifted(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools (the dev extra) regenerates the stubs")
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_protos.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    fresh, committed = _stubs(tmp_path), _stubs(COMMITTED)
    assert sorted(fresh) == sorted(committed), "stub files added or removed: run `make protos`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale stubs {stale}: run `make protos` and commit the result"


def test_stubs_import_inside_the_package() -> None:
    from emostream.protos.v1 import analyzer_pb2_grpc, classifier_pb2, stream_pb2, timeline_pb2_grpc

    assert classifier_pb2.DESCRIPTOR.package == "emostream.v1"
    assert stream_pb2.Frame(schema_version=1, camera="cam0", seq=3).seq == 3
    assert analyzer_pb2_grpc.FaceAnalyzerStub and timeline_pb2_grpc.TimelineServiceStub
    for path in COMMITTED.glob("*.py*"):
        assert "from emostream.v1 import" not in path.read_text(), f"{path.name}: absolute import left"
