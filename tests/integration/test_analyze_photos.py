"""``emostream analyze`` on real photos: the expressions a person sees come out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import RunCli


@pytest.mark.parametrize(
    ("photo", "emotion"),
    [("pyfeat_0-f1-su-ph.jpg", "surprise"), ("pyfeat_single_face.jpg", "happy")],
)
def test_single_face_expression(run_cli: RunCli, images: Path, photo: str, emotion: str) -> None:
    result = run_cli("analyze", images / photo, "--json")
    assert result.returncode == 0, result.stderr
    faces = json.loads(result.stdout)["faces"]
    assert len(faces) == 1
    assert faces[0]["label"] == emotion, faces[0]["probabilities"]
    assert sum(faces[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)


def test_draw_and_json_for_a_folder(run_cli: RunCli, images: Path, tmp_path: Path) -> None:
    result = run_cli("analyze", images, "--json", "--draw", tmp_path)
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(documents) == len(list(images.glob("*.jpg")))
    for document in documents:
        assert (tmp_path / f"{Path(document['image']).stem}.jpg").stat().st_size > 0
        for face in document["faces"]:
            assert set(face) >= {"box", "keypoints", "quality", "probabilities", "label"}
