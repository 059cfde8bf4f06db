"""FER2013 loaders: the shared npz, the official ``fer2013.csv`` and the Kaggle folder layout.

Every loader returns a :class:`FerData` with uint8 images of shape (N, 48, 48) and int64 labels in
FER2013 class order (0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral).
``rows`` is the 0-based row of each sample in ``fer2013.csv`` (or -1 where unknown); it is the key
that joins the FER+ crowd labels.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from emostream.core.labels import EMOTIONS, SEVEN_TO_SIX

IMAGE_SIZE = 48
SPLIT_TRAIN = "train"
SPLIT_VAL = "val"  # FER2013 PublicTest
SPLIT_TEST = "test"  # FER2013 PrivateTest, when the user has it
_CSV_USAGE = {"Training": SPLIT_TRAIN, "PublicTest": SPLIT_VAL, "PrivateTest": SPLIT_TEST}
_FOLDER_SPLITS = {"train": SPLIT_TRAIN, "test": SPLIT_VAL, "val": SPLIT_VAL, "validation": SPLIT_VAL}


class DataFormatError(ValueError):
    """The data file or folder is not in a format the loaders know."""


@dataclass(frozen=True)
class FerSplit:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64
    rows: np.ndarray  # (N,) int64, -1 where unknown

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> FerSplit:
        return FerSplit(self.images[index], self.labels[index], self.rows[index])


@dataclass(frozen=True)
class FerData:
    splits: dict[str, FerSplit]
    source: str
    sha256: str

    def split(self, name: str) -> FerSplit:
        if name not in self.splits:
            raise DataFormatError(f"{self.source} has no '{name}' split (has {sorted(self.splits)})")
        return self.splits[name]


def file_sha256(*paths: Path) -> str:
    """The sha256 of the files' bytes, one after the other (of one file: what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def array_sha256(array: np.ndarray) -> str:
    """The sha256 of an array's raw bytes: stable across npz re-packing (zip timestamps)."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def load_npz(path: Path) -> FerData:
    """The shared npz: ``x_train``/``y_train``/``row_train`` and ``x_val``/``y_val``/``row_val``."""
    with np.load(path) as archive:
        splits: dict[str, FerSplit] = {}
        for suffix, name in (("train", SPLIT_TRAIN), ("val", SPLIT_VAL), ("test", SPLIT_TEST)):
            if f"x_{suffix}" not in archive:
                continue
            images = archive[f"x_{suffix}"].astype(np.uint8)
            labels = archive[f"y_{suffix}"].astype(np.int64)
            rows_key = f"row_{suffix}"
            rows = archive[rows_key].astype(np.int64) if rows_key in archive else np.full(len(labels), -1)
            splits[name] = _checked(FerSplit(images, labels, rows), f"{path}:{suffix}")
    if not splits:
        raise DataFormatError(f"{path}: no x_train/x_val arrays")
    return FerData(splits, str(path), file_sha256(path))


def load_csv(path: Path) -> FerData:
    """The official Kaggle ``fer2013.csv``: columns ``emotion,pixels,Usage``."""
    buckets: dict[str, tuple[list[np.ndarray], list[int], list[int]]] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or [])
        if missing:
            raise DataFormatError(f"{path}: missing columns {sorted(missing)}")
        for row_index, record in enumerate(reader):
            split = _CSV_USAGE.get(record["Usage"])
            if split is None:
                raise DataFormatError(f"{path}: row {row_index} has unknown Usage {record['Usage']!r}")
            pixels = np.array(record["pixels"].split(), dtype=np.uint8)
            if pixels.size != IMAGE_SIZE * IMAGE_SIZE:
                raise DataFormatError(f"{path}: row {row_index} has {pixels.size} pixels, not 2304")
            images, labels, rows = buckets.setdefault(split, ([], [], []))
            images.append(pixels.reshape(IMAGE_SIZE, IMAGE_SIZE))
            labels.append(int(record["emotion"]))
            rows.append(row_index)
    splits = {
        name: _checked(FerSplit(np.stack(imgs), np.array(lbls), np.array(rws)), f"{path}:{name}")
        for name, (imgs, lbls, rws) in buckets.items()
    }
    return FerData(splits, str(path), file_sha256(path))


def load_folder(root: Path) -> FerData:
    """The Kaggle image layout: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``."""
    splits: dict[str, FerSplit] = {}
    digest = hashlib.sha256()
    for folder_name, split in _FOLDER_SPLITS.items():
        split_dir = root / folder_name
        if not split_dir.is_dir() or split in splits:
            continue
        images: list[np.ndarray] = []
        labels: list[int] = []
        for class_index, class_name in enumerate(EMOTIONS):
            class_dir = split_dir / class_name
            if not class_dir.is_dir():
                continue
            for image_path in sorted(class_dir.iterdir()):
                if image_path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
                    continue
                with Image.open(image_path) as image:
                    gray = image.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE))
                images.append(np.asarray(gray, dtype=np.uint8))
                labels.append(class_index)
                digest.update(f"{split}/{class_name}/{image_path.name}".encode())
        if images:
            rows = np.full(len(labels), -1, dtype=np.int64)
            splits[split] = _checked(FerSplit(np.stack(images), np.array(labels), rows), str(split_dir))
    if not splits:
        raise DataFormatError(f"{root}: expected train/<class>/*.jpg with classes {list(EMOTIONS)}")
    return FerData(splits, str(root), digest.hexdigest())


def load_fer2013(path: Path) -> FerData:
    """Any of the three layouts, chosen by what ``path`` is."""
    if path.is_dir():
        return load_folder(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.suffix == ".npz":
        return load_npz(path)
    if path.suffix == ".csv":
        return load_csv(path)
    raise DataFormatError(f"{path}: expected an .npz, fer2013.csv or a train/<class>/ folder")


def to_six_classes(split: FerSplit) -> FerSplit:
    """Merge Disgust into Angry (the seeds' 6-class variant)."""
    mapping = np.array(SEVEN_TO_SIX, dtype=np.int64)
    return FerSplit(split.images, mapping[split.labels], split.rows)


def dev_split(split: FerSplit, fraction: float, seed: int) -> tuple[FerSplit, FerSplit]:
    """Split a dev part off Training for model choices, stratified by class.

    FER2013 holds exact duplicate images; all copies of one image land on the same side, so the
    dev score is not flattered by images the model trained on.
    """
    keys = np.array([hashlib.blake2b(image.tobytes(), digest_size=8).hexdigest() for image in split.images])
    unique_keys, group_of = np.unique(keys, return_inverse=True)
    rng = np.random.default_rng(seed)
    group_label = np.zeros(len(unique_keys), dtype=np.int64)
    group_label[group_of] = split.labels  # one label per group is enough to stratify
    dev_groups = np.zeros(len(unique_keys), dtype=bool)
    for label in np.unique(group_label):
        members = np.flatnonzero(group_label == label)
        count = round(len(members) * fraction)
        dev_groups[rng.choice(members, size=count, replace=False)] = True
    is_dev = dev_groups[group_of]
    return split.subset(np.flatnonzero(~is_dev)), split.subset(np.flatnonzero(is_dev))


def _checked(split: FerSplit, where: str) -> FerSplit:
    if split.images.ndim != 3 or split.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataFormatError(f"{where}: images have shape {split.images.shape}, expected (N, 48, 48)")
    if len(split.labels) != len(split.images):
        raise DataFormatError(f"{where}: {len(split.images)} images but {len(split.labels)} labels")
    if len(split.labels) and (split.labels.min() < 0 or split.labels.max() >= len(EMOTIONS)):
        raise DataFormatError(f"{where}: labels outside 0..6")
    return split
