"""Bad input gets a one-line error naming the file and the problem; corrupt frames are skipped and counted."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.integration.conftest import RunCli


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("emostream: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        (b"", "empty file"),
        (b"this is a text file, not a video\n" * 10, "not a readable video"),
    ],
)
def test_replay_rejects_unusable_files(tmp_path: Path, run_cli: RunCli, content: bytes | None, problem: str) -> None:
    video = tmp_path / "clip.mp4"
    if content is not None:
        video.write_bytes(content)
    result = run_cli("replay", video, "--out", tmp_path / "out", "--quiet")
    assert result.returncode != 0
    line = error_line(result.stderr)
    assert str(video) in line and problem in line
    assert not (tmp_path / "out" / "timeline.json").exists()


def test_replay_of_a_truncated_video_says_so(tmp_path: Path, run_cli: RunCli, sample_video: Path) -> None:
    video = tmp_path / "truncated.mp4"
    data = sample_video.read_bytes()
    video.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: nothing can be decoded
    result = run_cli("replay", video, "--out", tmp_path / "out", "--quiet")
    assert result.returncode != 0
    assert str(video) in error_line(result.stderr)


def test_corrupt_frames_in_the_middle_are_skipped_and_counted(
    tmp_path: Path, run_cli: RunCli, sample_video: Path
) -> None:
    data = bytearray(sample_video.read_bytes())
    rng = np.random.default_rng(0)
    for start in (len(data) * 3 // 10, len(data) // 2, len(data) * 7 // 10):
        data[start : start + 20_000] = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    video = tmp_path / "corrupt.mp4"
    video.write_bytes(bytes(data))
    out = tmp_path / "out"
    result = run_cli("replay", video, "--out", out, "--quiet", "--no-video")
    assert result.returncode == 0, result.stderr
    assert "corrupt frames skipped" in result.stdout
    timeline = json.loads((out / "timeline.json").read_text())
    total = cv2.VideoCapture(str(sample_video)).get(cv2.CAP_PROP_FRAME_COUNT)
    assert 0 < timeline["summary"]["frames_processed"] < total
    assert timeline["tracks"], "the frames that survived still give a timeline"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def test_analyze_refuses_a_huge_image_before_decoding(tmp_path: Path, run_cli: RunCli) -> None:
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header_only(20000, 20000))
    result = run_cli("analyze", huge)
    assert result.returncode != 0
    line = error_line(result.stderr)
    assert str(huge) in line and "20000x20000" in line


def test_analyze_reports_missing_and_corrupt_images(tmp_path: Path, run_cli: RunCli) -> None:
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not the rest of a jpeg")
    result = run_cli("analyze", tmp_path / "missing.jpg", corrupt)
    assert result.returncode != 0
    assert "missing.jpg: no such file" in result.stderr
    assert "corrupt.jpg" in result.stderr


def test_analyze_an_image_without_faces(tmp_path: Path, run_cli: RunCli) -> None:
    blank = tmp_path / "wall.png"
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    cv2.imwrite(str(blank), cv2.merge([gradient, gradient, gradient]))
    result = run_cli("analyze", blank, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["faces"] == []


def test_eval_model_names_a_missing_array(tmp_path: Path, run_cli: RunCli) -> None:
    npz = tmp_path / "crops.npz"
    np.savez(npz, x=np.zeros((2, 48, 48), np.uint8))
    result = run_cli("eval-model", "--npz", npz, "--images", "x", "--labels", "y")
    assert result.returncode != 0
    assert "no array named y" in error_line(result.stderr)
