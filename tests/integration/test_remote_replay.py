"""``emostream replay VIDEO --remote`` through the whole running stack (redis-server, classifier, detector,
aggregator as processes on free loopback ports) gives the same tracks and segments as embedded
``emostream replay`` on the same file: same model, same seqs.

The stack comes from ``tests.integration.stack.make_stack`` (``emostream.stack``, what ``make up`` runs); the
videos are read in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emostream.stack.stack import Stack
from tests.integration.conftest import REPO, RunCli
from tests.integration.stack import MakeStack, make_stack

__all__ = ["make_stack"]  # the fixture, imported for pytest

VIDEOS = REPO.parent / "shared" / "data" / "videos"
pytestmark = pytest.mark.slow
SERVICES = ("redis", "classifier", "detector", "aggregator")


def remote_args(stack: Stack) -> list[str]:
    ports = stack.config.ports
    return [
        "--remote", "--redis", stack.redis_url, "--redis-password-file", str(stack.password_file),
        "--aggregator", stack.address(ports.aggregator), "--classifier", stack.address(ports.classifier),
        "--wait-timeout", "600",
    ]  # fmt: skip


def tracks_and_segments(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (t["track_id"], t["first_seq"], t["last_seq"], t["frame_count"],
         [(s["label"], s["start_seq"], s["end_seq"], s["frames"]) for s in t["segments"]])
        for t in doc["tracks"]
    ]  # fmt: skip


def frames(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(t["track_id"], f["seq"], f["label"], f["box"], f["observed"]) for t in doc["tracks"] for f in t["frames"]]


def assert_close_or_both_null(got: list[Any] | None, want: list[Any] | None, tolerance: float, what: str) -> None:
    assert (got is None) == (want is None), what
    if got is not None and want is not None:
        flat_got = [x for row in got for x in (row if isinstance(row, list) else [row])]
        flat_want = [x for row in want for x in (row if isinstance(row, list) else [row])]
        assert len(flat_got) == len(flat_want), what
        for a, b in zip(flat_got, flat_want, strict=True):
            assert (a is None and b is None) or abs(a - b) <= tolerance, f"{what}: {got} != {want}"


def assert_raw_and_keypoints_match(got: dict[str, Any], want: dict[str, Any]) -> None:
    for got_track, want_track in zip(got["tracks"], want["tracks"], strict=True):
        for g, w in zip(got_track["frames"], want_track["frames"], strict=True):
            assert_close_or_both_null(g["raw"], w["raw"], 1e-3, f"raw probabilities at seq {w['seq']}")
            assert_close_or_both_null(g["keypoints"], w["keypoints"], 0.05, f"keypoints at seq {w['seq']}")


@pytest.mark.parametrize("video", ["fer_woman2.mp4", "facenet_video.mp4"])
def test_remote_replay_matches_embedded(make_stack: MakeStack, run_cli: RunCli, tmp_path: Path, video: str) -> None:
    path = VIDEOS / video
    if not path.exists():
        pytest.skip(f"{path} is not here")
    stack = make_stack(services=SERVICES)
    embedded, remote = tmp_path / "embedded", tmp_path / "remote"
    done = run_cli("replay", path, "--out", embedded, "--quiet", "--no-video", timeout=900)
    assert done.returncode == 0, done.stderr
    done = run_cli("replay", path, "--out", remote, "--quiet", *remote_args(stack), timeout=900)
    assert done.returncode == 0, done.stderr + "\n" + stack.tail("detector") + "\n" + stack.tail("aggregator")

    want = json.loads((embedded / "timeline.json").read_text())
    got = json.loads((remote / "timeline.json").read_text())
    assert tracks_and_segments(got) == tracks_and_segments(want)
    assert frames(got) == frames(want)
    assert_raw_and_keypoints_match(got, want)
    keys = ("type", "track_id", "seq", "pts", "label", "previous")
    assert [[e[k] for k in keys] for e in got["events"]] == [[e[k] for k in keys] for e in want["events"]]
    assert got["summary"]["frames_processed"] == want["summary"]["frames_processed"]
    assert got["model"] == want["model"]
    for name in ("timeline.json", "timeline.csv", "timeline.png", "annotated.mp4"):
        assert (remote / name).stat().st_size > 0, name
