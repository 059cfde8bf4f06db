"""The three FER2013 layouts load to the same arrays; the dev split keeps duplicates together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emostream.core.labels import EMOTIONS
from training.data import (
    SPLIT_TEST,
    SPLIT_TRAIN,
    SPLIT_VAL,
    DataFormatError,
    FerSplit,
    dev_split,
    load_fer2013,
    to_six_classes,
)
from training.ferplus import load_votes, soft_targets

RNG = np.random.default_rng(7)
IMAGES = RNG.integers(0, 256, size=(6, 48, 48), dtype=np.uint8)
LABELS = np.array([0, 3, 6, 1, 5, 2])
USAGE = ["Training", "Training", "Training", "PublicTest", "PublicTest", "PrivateTest"]


def write_csv(path: Path) -> Path:
    lines = ["emotion,pixels,Usage"]
    for image, label, usage in zip(IMAGES, LABELS, USAGE, strict=True):
        lines.append(f"{label},{' '.join(map(str, image.ravel()))},{usage}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv(tmp_path: Path) -> None:
    data = load_fer2013(write_csv(tmp_path / "fer2013.csv"))
    train, val, test = data.split(SPLIT_TRAIN), data.split(SPLIT_VAL), data.split(SPLIT_TEST)
    assert np.array_equal(train.images, IMAGES[:3]) and np.array_equal(train.labels, LABELS[:3])
    assert np.array_equal(val.rows, [3, 4]) and np.array_equal(test.labels, LABELS[5:])
    assert len(data.sha256) == 64


def test_npz(tmp_path: Path) -> None:
    path = tmp_path / "fer.npz"
    np.savez(path, x_train=IMAGES[:4], y_train=LABELS[:4], row_train=np.arange(4), x_val=IMAGES[4:], y_val=LABELS[4:])
    data = load_fer2013(path)
    assert np.array_equal(data.split(SPLIT_VAL).labels, LABELS[4:])
    assert np.array_equal(data.split(SPLIT_VAL).rows, [-1, -1])


def test_kaggle_folders(tmp_path: Path) -> None:
    for index, (image, label) in enumerate(zip(IMAGES, LABELS, strict=True)):
        split = "train" if index < 4 else "test"
        folder = tmp_path / split / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index}.png")
    data = load_fer2013(tmp_path)
    train = data.split(SPLIT_TRAIN)
    assert sorted(train.labels.tolist()) == sorted(LABELS[:4].tolist())
    assert len(data.split(SPLIT_VAL)) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("emotion,pixels\n0,1 2 3\n", "missing columns"),
        ("emotion,pixels,Usage\n0,1 2 3,Training\n", "has 3 pixels"),
        ("emotion,pixels,Usage\n0," + " ".join(["0"] * 2304) + ",Elsewhere\n", "unknown Usage"),
    ],
)
def test_bad_csv(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "fer2013.csv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        load_fer2013(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_fer2013(tmp_path / "nope.npz")


def test_dev_split_keeps_duplicates_on_one_side() -> None:
    base = RNG.integers(0, 256, size=(200, 48, 48), dtype=np.uint8)
    images = np.concatenate([base, base[:50]])  # 50 images appear twice
    labels = RNG.integers(0, 7, size=250)
    labels[200:] = labels[:50]
    train, dev = dev_split(FerSplit(images, labels, np.arange(250)), 0.2, seed=1)
    assert len(train) + len(dev) == 250
    train_keys = {image.tobytes() for image in train.images}
    assert not any(image.tobytes() in train_keys for image in dev.images)
    assert 30 <= len(dev) <= 70


def test_six_classes_merge_disgust_into_angry() -> None:
    split = to_six_classes(FerSplit(IMAGES, LABELS, np.arange(6)))
    assert split.labels.tolist() == [0, 2, 5, 0, 4, 1]


def test_ferplus_votes_join_by_row(tmp_path: Path) -> None:
    path = tmp_path / "fer2013new.csv"
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    path.write_text(f"{header}\nTraining,fer0.png,0,8,2,0,0,0,0,0,0,0\nTraining,,0,0,0,0,0,0,0,0,0,10\n")
    votes = load_votes(path)
    split = FerSplit(IMAGES[:3], np.array([6, 0, 4]), np.array([0, 1, -1]))
    soft = soft_targets(split, votes, "soft")
    assert soft[0, 3] == pytest.approx(0.8) and soft[0, 5] == pytest.approx(0.2)
    assert soft[1].tolist() == np.eye(7)[0].tolist()  # no votes on the 7 classes: FER2013 label kept
    assert soft[2].tolist() == np.eye(7)[4].tolist()  # row -1: FER2013 label kept
    assert soft_targets(split, votes, "majority")[0].argmax() == 3
