"""``emostream run``: a live source, newest frame wins, a clean stop writes the outputs."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.integration.conftest import RunCli


def test_run_a_file_live_then_stop(run_cli: RunCli, sample_video: Path, tmp_path: Path) -> None:
    result = run_cli("run", sample_video, "--out", tmp_path, "--duration", "3", "--quiet", timeout=120)
    assert result.returncode == 0, result.stderr
    timeline = json.loads((tmp_path / "timeline.json").read_text())
    assert timeline["summary"]["frames_processed"] > 10
    assert timeline["tracks"], "the astronaut is tracked"
    assert (tmp_path / "annotated.mp4").stat().st_size > 0
    assert "dropped" in result.stdout


def test_unreachable_camera_keeps_retrying_then_says_so(run_cli: RunCli, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"rtsp://user:secret@127.0.0.1:{port}/cam"
    result = run_cli("run", url, "--out", tmp_path, "--duration", "3", "--quiet", timeout=120)
    assert result.returncode != 0
    assert "no frame could be read" in result.stderr
    assert "secret" not in result.stderr + result.stdout  # credentials redacted


def test_missing_file_source(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("run", tmp_path / "nope.mp4", "--out", tmp_path, "--quiet")
    assert result.returncode != 0
    assert "no such file" in result.stderr
