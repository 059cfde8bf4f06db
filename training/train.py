"""Train an emotion model on FER2013, resumably: a checkpoint every epoch, ``--resume`` continues.

    python -m training.train --data ../shared/data/fer2013/fer2013_train_val.npz --run-dir runs/emonet

Model choices are made on a dev part split off Training (``--dev-fraction``); PublicTest is never
looked at here. Works on Keras's TensorFlow and torch backends.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import zipfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from training.augment import AugmentConfig, augment_batch, mixup
from training.data import SPLIT_TRAIN, FerSplit, dev_split, file_sha256, load_fer2013, to_six_classes
from training.distill import Teacher, blend, check_targets, teacher_paths
from training.npz_store import stored_sha256
from training.resume_state import init_weights, load_state, save_state
from training.run_files import RESUME_STATE, TIMING_LOG
from training.teacher_views import VIEWS_FOLDER, TeacherViews, views_key
from training.weight_average import AVERAGE_STATE, AverageCallback, check_continuous

DEFAULT_DATA = Path("../shared/data/fer2013/fer2013_train_val.npz")
# the settings that decide which faces a batch holds, how they are augmented, and what the teacher says of them
VIEW_SHAPING = (
    "data",
    "classes",
    "batch_size",
    "seed",
    "dev_fraction",
    "max_train_samples",
    "mixup_alpha",
    "augment",
    "teacher",
)


@dataclass
class TrainConfig:
    data: str = str(DEFAULT_DATA)
    arch: str = "emonet"
    classes: int = 7
    epochs: int = 60
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd (Nesterov momentum) or adam
    lr: float = 0.05
    weight_decay: float = 5e-4
    warmup_epochs: int = 3
    label_smoothing: float = 0.1
    class_weight_power: float = 0.3
    mixup_alpha: float = 0.0
    ferplus: str = ""
    ferplus_mode: str = "soft"
    dev_fraction: float = 0.1
    seed: int = 1234
    max_train_samples: int = 0
    precision: str = "float32"  # the run's first choice; mixed_bfloat16: ~1.2-1.3x faster with AVX512_BF16
    teacher: str = ""  # exported ONNX model(s), comma-separated; flip-averaged probabilities blended into the targets
    teacher_weight: float = 0.5
    teacher_views: int = 0  # >0: the teacher asked once for each of this many fixed views (training/teacher_views.py)
    average_from: int = 0  # weight averaging (training/weight_average.py) of every epoch after this one; 0: none
    init_from: str = ""  # a checkpoint of the same architecture whose weights a new run starts from (fine-tuning)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


class FerSequence:
    """Shuffled, augmented batches; built lazily so the module imports without Keras."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        import keras

        class _Sequence(keras.utils.PyDataset):
            def __init__(
                self,
                images: np.ndarray,
                targets: np.ndarray,
                weights: np.ndarray,
                config: TrainConfig,
                epoch: int,
                workers: int = 1,
                teacher_threads: int = 0,
                views: TeacherViews | None = None,
            ) -> None:
                # batches depend only on (seed, epoch or view, index), so threads that prepare them ahead change nothing
                super().__init__(workers=workers, use_multiprocessing=False)
                self.images, self.targets, self.weights, self.config = images, targets, weights, config
                self.epoch, self.views, self.teacher_threads = epoch, views, teacher_threads
                self.teacher: Teacher | None = None  # opened on the first batch it must see
                self._order = self._shuffle()

            def _draw(self) -> int:
                """What seeds this epoch's batches: the epoch, or with teacher views the view it replays."""
                return self.views.view(self.epoch) if self.views is not None else self.epoch

            def _shuffle(self) -> np.ndarray:
                return np.random.default_rng((self.config.seed, self._draw())).permutation(len(self.images))

            def __len__(self) -> int:
                return math.ceil(len(self.images) / self.config.batch_size)

            def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                pick = self._order[index * self.config.batch_size : (index + 1) * self.config.batch_size]
                rng = np.random.default_rng((self.config.seed, self._draw(), index))
                images = augment_batch(self.images[pick], rng, self.config.augment)
                targets = self.targets[pick]
                if self.config.mixup_alpha > 0:
                    images, targets = mixup(images, targets, rng, self.config.mixup_alpha)
                if self.config.teacher:
                    targets = blend(targets, self._teacher_probabilities(images, index), self.config.teacher_weight)
                return images[..., None], check_targets(targets), self.weights[pick]

            def _teacher_probabilities(self, images: np.ndarray, index: int) -> np.ndarray:
                known = self.views.get(self._draw(), index) if self.views is not None else None
                if known is not None:
                    return known
                if self.teacher is None:
                    self.teacher = Teacher(teacher_paths(self.config.teacher), self.teacher_threads)
                probabilities = self.teacher.probabilities(images)
                if self.views is not None:
                    self.views.put(self._draw(), index, probabilities)
                return probabilities

            def on_epoch_end(self) -> None:
                if self.views is not None:
                    self.views.save(self._draw())
                self.epoch += 1
                self._order = self._shuffle()

        return _Sequence(*args, **kwargs)


def class_weights(labels: np.ndarray, num_classes: int, power: float) -> np.ndarray:
    """Per-class weights (inverse frequency)**power, normalised to mean 1 over the samples."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = (counts.sum() / np.maximum(counts, 1)) ** power
    weights /= (weights[labels]).mean()
    return weights.astype(np.float32)


def prepare(config: TrainConfig) -> tuple[FerSplit, FerSplit, np.ndarray, str]:
    data = load_fer2013(Path(config.data))
    train = data.split(SPLIT_TRAIN)
    if config.classes == 6:
        train = to_six_classes(train)
    train, dev = dev_split(train, config.dev_fraction, config.seed)
    if config.max_train_samples:
        keep = np.random.default_rng(config.seed).permutation(len(train))[: config.max_train_samples]
        train = train.subset(np.sort(keep))
        dev = dev.subset(np.arange(min(len(dev), max(64, config.max_train_samples // 4))))
    targets = np.eye(config.classes, dtype=np.float32)[train.labels]
    if config.ferplus:
        from training.ferplus import load_votes, soft_targets

        if config.classes != 7:
            raise ValueError("FER+ targets are only defined for 7 classes")
        targets = soft_targets(train, load_votes(Path(config.ferplus)), config.ferplus_mode)
    return train, dev, targets, data.sha256


def build_model(config: TrainConfig, steps_per_epoch: int) -> Any:
    import keras

    from training.models import build

    model = build(config.arch, config.classes)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.lr * 0.01,
        decay_steps=max(1, (config.epochs - config.warmup_epochs) * steps_per_epoch),
        warmup_target=config.lr,
        warmup_steps=config.warmup_epochs * steps_per_epoch,
        alpha=0.001,
    )
    if config.optimizer == "adam":
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
    elif config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=config.weight_decay)
    else:
        raise ValueError(f"optimizer must be sgd or adam, not {config.optimizer!r}")
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=config.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="acc")],
    )
    return model


def train(
    config: TrainConfig,
    run_dir: Path,
    resume: bool,
    stop_after: int | None = None,
    workers: int = 1,
    precision: str | None = None,
    teacher_threads: int = 0,
) -> Path:
    """Train (or continue) a run; returns the path of the last checkpoint. ``stop_after``: train at most that
    many epochs in this call (the run's schedule is unchanged; the next call resumes where this one stopped).
    ``workers``: threads that augment (and ask the teacher) ahead of the training step; on a GPU box with many
    cores they keep the GPU fed, on this 2-core CPU 1 is best. ``precision``: the Keras dtype policy of this
    call's epochs, None for the run's own (``config.precision``). It belongs to the machine, not the run:
    mixed_bfloat16 is faster where the CPU has AVX512_BF16 and far slower where it has only AVX2, and the
    weights in ``resume.npz`` are float32 either way. ``timing.jsonl`` logs each epoch's policy.
    ``teacher_threads``: ONNX Runtime threads of a ``--teacher`` (0: its default, one a core)."""
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    last = run_dir / "last.keras"
    history_path = run_dir / "history.csv"
    config_path = run_dir / "config.json"
    state = run_dir / RESUME_STATE
    average = run_dir / AVERAGE_STATE
    requested_average = config.average_from
    if resume and (last.exists() or state.exists()) and config_path.exists():
        saved = {k: v for k, v in json.loads(config_path.read_text()).items() if k in TrainConfig.__dataclass_fields__}
        augment: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in saved["augment"].items()}
        saved["augment"] = AugmentConfig(**augment)
        if saved["epochs"] != config.epochs:
            print(f"resume: keeping the run's schedule of {saved['epochs']} epochs", flush=True)
        config = TrainConfig(**saved)
    policy = precision or config.precision
    keras.utils.set_random_seed(config.seed)
    keras.mixed_precision.set_global_policy(policy)
    train_split, dev, targets, data_hash = prepare(config)
    weights = class_weights(train_split.labels, config.classes, config.class_weight_power)[train_split.labels]
    steps = math.ceil(len(train_split) / config.batch_size)
    initial_epoch = 0
    if resume and last.exists() and saved_precision(last) == policy:  # a .keras file keeps its layers' policy
        import training.models  # noqa: F401  (registers the custom layers)

        model = keras.saving.load_model(last)
        initial_epoch = _epochs_done(history_path)
        print(f"resume: {last} after epoch {initial_epoch}", flush=True)
    elif resume and state.exists():
        model = build_model(config, steps)
        load_state(model, state)
        initial_epoch = _epochs_done(history_path)
        print(f"resume: {state} after epoch {initial_epoch}", flush=True)
    else:  # starting over: the logs of an earlier start (say, one whose weights were not kept) go with it
        model = build_model(config, steps)
        if config.init_from:
            init_weights(model, Path(config.init_from))
            print(f"start: the weights of {config.init_from}", flush=True)
        for log in (history_path, average, run_dir / TIMING_LOG):
            log.unlink(missing_ok=True)
    if initial_epoch >= config.epochs:  # before the teacher check: a finished run's teacher may have moved on
        print("run already complete", flush=True)
        return last
    config = _adopt_average_from(config, requested_average, initial_epoch)
    if config.average_from:
        check_continuous(average, config.average_from, initial_epoch)
    extra = {"data_sha256": data_hash, "train_samples": len(train_split), "dev_samples": len(dev)}
    if config.teacher:
        extra["teacher_sha256"] = check_teacher(config, config_path if initial_epoch else None)
    if config.init_from:
        extra["init_sha256"] = _init_sha256(config, config_path if initial_epoch else None)
    config_path.write_text(json.dumps(asdict(config) | extra, indent=2))
    views = _teacher_views(config, run_dir, extra, len(train_split)) if config.teacher_views else None
    sequence = FerSequence(train_split.images, targets, weights, config, initial_epoch, workers, teacher_threads, views)
    dev_x = (dev.images.astype(np.float32) / 255.0)[..., None]
    dev_y = np.eye(config.classes, dtype=np.float32)[dev.labels]
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(last), save_best_only=False),
        keras.callbacks.ModelCheckpoint(
            str(run_dir / "best.keras"), monitor="val_acc", mode="max", save_best_only=True
        ),
        keras.callbacks.CSVLogger(str(history_path), append=True),
        *([AverageCallback(average, config.average_from)] if config.average_from else []),  # before resume.npz
        _EpochTimer(run_dir / TIMING_LOG, state),
    ]
    model.fit(
        sequence,
        validation_data=(dev_x, dev_y),
        epochs=config.epochs if stop_after is None else min(config.epochs, initial_epoch + stop_after),
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=2,
    )
    return last


def _teacher_views(config: TrainConfig, run_dir: Path, extra: dict[str, Any], samples: int) -> TeacherViews:
    """The run's store of teacher targets, keyed by everything that shapes a view's batches and their targets."""
    if not config.teacher:
        raise ValueError("--teacher-views keeps a teacher's targets: it needs --teacher")
    shaping = {k: v for k, v in asdict(config).items() if k in VIEW_SHAPING}
    key = views_key(shaping | {k: extra[k] for k in ("data_sha256", "teacher_sha256")} | {"samples": samples})
    return TeacherViews(run_dir / VIEWS_FOLDER, config.teacher_views, samples, config.batch_size, key)


def _init_sha256(config: TrainConfig, saved_config: Path | None) -> str:
    """The sha256 of the checkpoint a run started from: measured at the start, kept from ``config.json`` after
    (the file may have moved on since; the run's own weights carry on from its checkpoints)."""
    if saved_config is not None:
        saved = json.loads(saved_config.read_text()).get("init_sha256")
        if saved:
            return str(saved)
    return stored_sha256(Path(config.init_from))


def _adopt_average_from(config: TrainConfig, requested: int, epochs_done: int) -> TrainConfig:
    """A resumed run keeps its own ``average_from``; one that averages nothing yet may start to, from an epoch it
    has not passed (the averaged model is then an option next to the last epoch, chosen on the dev split)."""
    if not requested or requested == config.average_from:
        return config
    if config.average_from:
        raise ValueError(f"the run averages every epoch after epoch {config.average_from}, not {requested}")
    if epochs_done > requested:
        raise ValueError(f"the run has trained {epochs_done} epochs: too late to average from epoch {requested}")
    print(f"resume: averaging the weights of every epoch after epoch {requested}", flush=True)
    return replace(config, average_from=requested)


def check_teacher(config: TrainConfig, saved_config: Path | None) -> str:
    """The teacher's sha256 (comma-separated for an ensemble); on resume it must be the files the run started with
    (models/ may hold a newer export)."""
    digest = ",".join(file_sha256(path) for path in teacher_paths(config.teacher))
    if saved_config is not None:
        started = json.loads(saved_config.read_text()).get("teacher_sha256")
        if started and started != digest:
            raise ValueError(
                f"teacher {config.teacher} (sha256 {digest[:12]}) is not the one this run started with "
                f"({started[:12]}): restore it, e.g. from the git history of {config.teacher}"
            )
    return digest


def saved_precision(keras_file: Path) -> str | None:
    """The dtype policy the layers of a ``.keras`` file run (its first layer past the inputs), read from the
    archive's ``config.json`` without loading it; None where it can't be read."""
    try:
        with zipfile.ZipFile(keras_file) as archive:
            layers = json.loads(archive.read("config.json"))["config"]["layers"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    for layer in layers:
        if layer.get("class_name") == "InputLayer":
            continue
        dtype = layer.get("config", {}).get("dtype")
        if isinstance(dtype, dict):
            return str(dtype.get("config", {}).get("name")) if dtype.get("config") else None
        return str(dtype) if dtype else None
    return None


def _epochs_done(history_path: Path) -> int:
    if not history_path.exists():
        return 0
    lines = [line for line in history_path.read_text().splitlines()[1:] if line.strip()]
    return len(lines)


class _EpochTimer:
    """Times each epoch (wall and CPU seconds) and writes the compact resume state beside ``last.keras``."""

    def __new__(cls, path: Path, state: Path) -> Any:
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                self.start, self.start_cpu = time.time(), time.process_time()

            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                record = {
                    "epoch": epoch + 1,
                    "seconds": round(time.time() - self.start, 1),  # wall time, pauses and other loads included
                    "cpu_seconds": round(time.process_time() - self.start_cpu, 1),  # this process, all threads
                    "backend": keras.backend.backend(),
                    # what the layers ran (the first one with weights), not just the global policy
                    "precision": next(layer for layer in self.model.layers if layer.weights).dtype_policy.name,
                }
                with path.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                save_state(self.model, state)

        return _Timer()


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, Path, bool, dict[str, Any]]:
    """The run's config, its folder, whether to resume, and this call's options (``train``'s keywords)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()
    parser.add_argument("--data", default=defaults.data, help="npz, fer2013.csv or Kaggle train/<class>/ folder")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/emonet"))
    parser.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    for name in ("arch", "optimizer", "ferplus", "ferplus_mode", "teacher"):
        parser.add_argument(f"--{name.replace('_', '-')}", default=getattr(defaults, name))
    parser.add_argument(
        "--init-from", default=defaults.init_from, metavar="CHECKPOINT",
        help="a new run starts from these weights (a run's resume.npz or a .keras file of the same --arch and "
        "--classes) instead of random ones; the optimizer and schedule start afresh",
    )  # fmt: skip
    parser.add_argument(
        "--precision", default=None, metavar="POLICY",
        help=f"Keras dtype policy (float32, mixed_bfloat16); a new run keeps it as its own (default "
        f"{defaults.precision}), a resumed one uses it for this call's epochs only",
    )  # fmt: skip
    for name in ("classes", "epochs", "batch_size", "warmup_epochs", "seed", "max_train_samples"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    parser.add_argument(
        "--average-from", type=int, default=defaults.average_from, metavar="EPOCH",
        help="keep the running mean of the weights of every epoch after EPOCH (average.npz; then python -m "
        "training.weight_average); a resumed run may take it up until it passes EPOCH",
    )  # fmt: skip
    for name in (
        "lr",
        "weight_decay",
        "label_smoothing",
        "class_weight_power",
        "mixup_alpha",
        "dev_fraction",
        "teacher_weight",
    ):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    parser.add_argument(
        "--teacher-views", type=int, default=defaults.teacher_views, metavar="K",
        help="ask the teacher once for each of K fixed augmented views of the Training faces and replay them "
        "(epoch e trains on view e mod K; training/teacher_views.py); 0: a new view every epoch",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for the backend (0: all)")
    parser.add_argument(
        "--stop-after", type=int, default=None, metavar="N",
        help="train at most N epochs now, then exit (the schedule stays; the next call resumes)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="threads preparing batches ahead (a GPU box: 4-8)")
    parser.add_argument(
        "--teacher-threads", type=int, default=0, metavar="N",
        help="ONNX Runtime threads of the teacher (0: one a core); it shares the cores with the training step",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(args.threads))
    fields = {name for name in asdict(defaults) if name not in ("augment", "precision")}
    config = TrainConfig(
        **{name: getattr(args, name) for name in fields}, precision=args.precision or defaults.precision
    )
    if args.stop_after is not None and args.stop_after < 1:
        parser.error("--stop-after must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.teacher_views < 0 or (args.teacher_views and not args.teacher):
        parser.error("--teacher-views must be 0 or more, and needs --teacher")
    if args.teacher_threads < 0:
        parser.error("--teacher-threads must be 0 (one a core) or more")
    options = {
        "stop_after": args.stop_after,
        "workers": args.workers,
        "precision": args.precision,
        "teacher_threads": args.teacher_threads,
    }
    return config, args.run_dir, not args.no_resume, options


def main(argv: list[str] | None = None) -> None:
    config, run_dir, resume, options = parse_args(argv)
    train(config, run_dir, resume, **options)


if __name__ == "__main__":
    main()
