"""What the report needs from a training run folder and from the caller: config, command, baselines."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from training.train import TrainConfig


class Baseline(BaseModel):
    """One row of the comparison table: a baseline trained and scored with this repo."""

    model_config = ConfigDict(extra="forbid")
    name: str
    publictest_accuracy: float
    macro_f1: float | None = None
    params: int | None = None
    flops: int | None = None
    source: str | None = None
    command: str | None = None
    notes: str | None = None


class FerplusAgreement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int
    accuracy: float
    label_agreement: float | None = None  # the FER2013 label vs the FER+ majority, same images


class LabelOption(BaseModel):
    """One row of the label-options table (``training.options``): a run of the study, scored on PublicTest."""

    model_config = ConfigDict(extra="forbid")
    name: str
    arch: str
    labels: str
    classes: int
    publictest_accuracy: float
    macro_f1: float | None = None
    six_class_accuracy: float
    ferplus_majority: FerplusAgreement | None = None
    command: str | None = None
    notes: str | None = None


def _load_rows(path: Path | None, schema: type[BaseModel], what: str) -> list[dict[str, Any]]:
    if path is None:
        return []
    rows = json.loads(path.read_text())
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON list of {what}, got {type(rows).__name__}")
    return [schema.model_validate(row).model_dump() for row in rows]


def load_baselines(path: Path | None) -> list[dict[str, Any]]:
    """The ``--baselines`` JSON list, validated (unknown keys are an error)."""
    return _load_rows(path, Baseline, "baselines")


def load_options(path: Path | None) -> list[dict[str, Any]]:
    """The ``--options`` JSON list (``training.options``), validated (unknown keys are an error)."""
    return _load_rows(path, LabelOption, "label options")


def load_run_config(run_dir: Path) -> tuple[TrainConfig, dict[str, Any]]:
    """The run's TrainConfig (augmentation left at its default: evaluation does not need it) and the raw JSON."""
    raw = json.loads((run_dir / "config.json").read_text())
    names = {f.name for f in fields(TrainConfig)} - {"augment"}
    return TrainConfig(**{k: v for k, v in raw.items() if k in names}), raw


def train_command(config: TrainConfig, run_dir: Path) -> str:
    """The ``training.train`` command line of the run (options that differ from the defaults only)."""
    defaults = asdict(TrainConfig())
    parts = ["python", "-m", "training.train", "--data", config.data, "--run-dir", str(run_dir)]
    for name, value in asdict(config).items():
        if name not in {"data", "augment"} and value != defaults[name]:
            parts += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(parts)
