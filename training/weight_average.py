"""Stochastic weight averaging (SWA) over the tail of a run's schedule, and the averaged model it gives.

A run with ``average_from = N`` keeps, in ``average.npz`` beside ``resume.npz``, the running mean of its weights at
the end of every epoch after epoch N (epochs N+1 ... the last). Averaging the weights the optimizer visits late in
training lands nearer the middle of a wide minimum than any single epoch (Izmailov et al., 2018, "Averaging Weights
Leads to Wider Optima"); the batch-norm statistics of the mean weights belong to no epoch, so they are measured
again on the training images (:func:`recalibrate_batch_norm`) before the average is used.

    python -m training.weight_average --run-dir training/checkpoints/emonet-v4

writes ``swa.npz`` (weights only, the format :func:`training.checkpoint.load_checkpoint` reads, so
``make export CHECKPOINT=RUN/swa.npz`` exports it) and ``swa.json``: the dev-split accuracy of the last epoch and
of the average, the choice between them (PublicTest is not looked at).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from training.npz_store import load_arrays, save_arrays

AVERAGE_STATE = "average.npz"
AVERAGED_WEIGHTS = "swa.npz"
AVERAGE_SUMMARY = "swa.json"


def update_average(weights: list[np.ndarray], path: Path, epoch: int) -> int:
    """Fold the weights at the end of ``epoch`` (1-based) into the running mean in ``path``; returns how many
    epochs the mean now holds. An epoch already folded in (a call that stopped between this file and
    ``resume.npz`` and trained that epoch again) is not counted twice."""
    count, last_epoch, mean = read_average(path)
    if epoch <= last_epoch:
        return count
    if mean is None:
        mean = [np.asarray(w, np.float64) for w in weights]
    else:
        if len(mean) != len(weights):
            raise ValueError(f"{path} holds {len(mean)} weights, the model has {len(weights)}")
        mean = [m + (np.asarray(w, np.float64) - m) / (count + 1) for m, w in zip(mean, weights, strict=True)]
    count += 1
    arrays: dict[str, np.ndarray] = {f"w{i}": m.astype(np.float32) for i, m in enumerate(mean)}
    for key, value in (("count", count), ("first_epoch", epoch - count + 1), ("last_epoch", epoch)):
        arrays[key] = np.array(value, np.int64)
    save_arrays(path, arrays)
    return count


def read_average(path: Path) -> tuple[int, int, list[np.ndarray] | None]:
    """(epochs averaged, last epoch averaged, the mean weights) of ``path``; (0, 0, None) where there is none."""
    if not path.is_file():
        return 0, 0, None
    data = load_arrays(path)
    weights = [data[f"w{i}"].astype(np.float64) for i in range(sum(1 for k in data if k.startswith("w")))]
    return int(data["count"]), int(data["last_epoch"]), weights


def check_continuous(path: Path, average_from: int, epochs_done: int) -> None:
    """A resumed run's average must hold every epoch from ``average_from + 1`` to the last one trained (it may hold
    one more: the average is written just before ``resume.npz``, and an epoch trained again is not counted twice)."""
    if epochs_done <= average_from:
        return
    count, last_epoch, _ = read_average(path)
    if last_epoch < epochs_done or count != last_epoch - average_from:
        raise ValueError(
            f"{path} averages {count} epochs up to epoch {last_epoch}, but the run has trained {epochs_done} epochs "
            f"and averages every epoch after epoch {average_from}: restore the average that goes with resume.npz"
        )


class AverageCallback:
    """The Keras callback that folds each epoch after ``average_from`` into ``path``; built lazily (Keras)."""

    def __new__(cls, path: Path, average_from: int) -> Any:
        import keras

        class _Average(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
                if epoch + 1 > average_from:
                    update_average(self.model.get_weights(), path, epoch + 1)

        return _Average()


def recalibrate_batch_norm(model: Any, images: np.ndarray, batch_size: int = 256) -> int:
    """Measure every batch-norm layer's moving mean and variance anew as the plain mean over ``images`` (N, H, W,
    C float32): forward passes in training mode, each layer's momentum set so that its moving statistics become the
    cumulative average of the batches' statistics. Returns the number of layers recalibrated."""
    import keras

    norms = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    seen = 0
    try:
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            for layer in norms:  # moving = moving * momentum + batch * (1 - momentum)
                layer.momentum = seen / (seen + len(batch))
            model(batch, training=True)
            seen += len(batch)
    finally:
        for layer, momentum in zip(norms, saved, strict=True):
            layer.momentum = momentum
    return len(norms)


def _all_layers(model: Any) -> list[Any]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_all_layers(layer))
    return found


def dev_accuracy(model: Any, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> float:
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    return float((np.argmax(probabilities, axis=1) == labels).mean())


def build_averaged(run_dir: Path) -> dict[str, Any]:
    """Rebuild the run's network, give it the averaged weights, recalibrate its batch norm on the training split
    (without augmentation) and write ``swa.npz``; score it and the last epoch on the dev split."""
    import keras

    from training.checkpoint import load_checkpoint
    from training.report.run_info import load_run_config
    from training.train import RESUME_STATE, prepare

    count, last_epoch, mean = read_average(run_dir / AVERAGE_STATE)
    if mean is None:
        raise FileNotFoundError(f"{run_dir / AVERAGE_STATE}: the run averages no weights (see --average-from)")
    config, _ = load_run_config(run_dir)
    train_split, dev, _, _ = prepare(config)
    train_x = (train_split.images.astype(np.float32) / 255.0)[..., None]
    dev_x = (dev.images.astype(np.float32) / 255.0)[..., None]
    last = load_checkpoint(run_dir / RESUME_STATE)
    keras.mixed_precision.set_global_policy("float32")
    averaged = keras.models.clone_model(last)
    averaged.set_weights([w.astype(np.float32) for w in mean])
    layers = recalibrate_batch_norm(averaged, train_x)
    out = run_dir / AVERAGED_WEIGHTS
    weights = {f"w{i}": np.asarray(w, np.float32) for i, w in enumerate(averaged.get_weights())}
    save_arrays(out, weights)  # what load_checkpoint reads (weights only)
    result: dict[str, Any] = {
        "averaged_epochs": [last_epoch - count + 1, last_epoch],
        "batch_norm_layers_recalibrated": layers,
        "recalibration_images": len(train_x),
        "dev_samples": len(dev),
        "dev_accuracy_last_epoch": round(dev_accuracy(last, dev_x, dev.labels), 5),
        "dev_accuracy_average": round(dev_accuracy(averaged, dev_x, dev.labels), 5),
        "weights": str(out),
    }
    result["choice"] = "average" if result["dev_accuracy_average"] > result["dev_accuracy_last_epoch"] else "last"
    (run_dir / AVERAGE_SUMMARY).write_text(json.dumps(result, indent=2) + "\n")
    return result


def averaged_summary(checkpoint: Path) -> dict[str, Any] | None:
    """The ``swa.json`` beside ``checkpoint`` where ``checkpoint`` is the average it describes, else None."""
    summary = checkpoint.with_name(AVERAGE_SUMMARY)
    if not summary.is_file():
        return None
    found: dict[str, Any] = json.loads(summary.read_text())
    return found if Path(found.get("weights", "")).name == checkpoint.name else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="a run trained with --average-from")
    args = parser.parse_args(argv)
    print(json.dumps(build_averaged(args.run_dir), indent=2))


if __name__ == "__main__":
    main()
