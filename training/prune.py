"""Narrow a trained ``emonet`` inside its residual blocks, as the starting point of a faster net to fine-tune.

Each block ``sXbY`` computes ``relu(shortcut + bn_b(conv_b(relu(bn_a(conv_a(x))))))``; the channels between
``conv_a`` and ``conv_b`` feed nothing else, so a block can keep any subset of them without touching the
shortcut's width. For every block whose inner width the target architecture narrows (``emonet_slim`` narrows
all four of ``emonet_wide``'s), the kept channels are those that carry the most: the largest ``|gamma| *
||conv_b weights out of the channel||`` (the batch-norm scale times how strongly ``conv_b`` reads the channel;
Liu et al., 2017, "Learning Efficient Convolutional Networks through Network Slimming", rank by ``|gamma|``
alone). Every other weight is copied as it is. The batch-norm statistics after a narrowed block no longer fit
what it outputs, so they are measured again on Training faces (``training.weight_average.recalibrate_batch_norm``).

    python -m training.prune --checkpoint training/checkpoints/emonet-v3/resume.npz --arch emonet_slim \\
        --out build/prune/emonet-v3-slim.npz

writes the narrowed weights (what ``python -m training.train --init-from`` starts a run from) and, beside them,
a ``.json`` with the MACs before and after and the dev-split accuracy of the source, of the narrowed net as cut
and after the recalibration (PublicTest is not looked at).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

RECALIBRATION_FACES = 8192


def channel_importance(gamma: np.ndarray, outgoing_kernel: np.ndarray) -> np.ndarray:
    """(C,) scores of a block's inner channels: ``|gamma_c| * ||conv_b kernel[:, :, c, :]||_2``."""
    if outgoing_kernel.ndim != 4 or outgoing_kernel.shape[2] != gamma.shape[0]:
        raise ValueError(f"conv_b kernel {outgoing_kernel.shape} does not read the {gamma.shape[0]} channels")
    reads = np.sqrt(np.square(outgoing_kernel).sum(axis=(0, 1, 3)))
    return np.abs(gamma) * reads


def strongest(importance: np.ndarray, count: int) -> np.ndarray:
    """The indices of the ``count`` largest scores, in channel order (ties: the lower index)."""
    if not 0 < count <= len(importance):
        raise ValueError(f"cannot keep {count} of {len(importance)} channels")
    order = np.argsort(-importance, kind="stable")[:count]
    return np.sort(order)


def _layers_by_name(model: Any) -> dict[str, Any]:
    return {layer.name: layer for layer in model.layers}


def narrowed_blocks(source: Any, target: Any) -> list[str]:
    """The blocks (``s1b1`` ...) whose inner width ``target`` narrows; every other layer must match in shape."""
    src, dst = _layers_by_name(source), _layers_by_name(target)
    if set(src) != set(dst):
        raise ValueError(f"the networks differ in layers: {sorted(set(src) ^ set(dst))}")
    blocks = []
    for name, layer in dst.items():
        shapes = [tuple(w.shape) for w in layer.get_weights()]
        if shapes == [tuple(w.shape) for w in src[name].get_weights()]:
            continue
        if not name.endswith(("_a_conv", "_a_bn", "_b_conv")):
            raise ValueError(f"layer {name} differs in shape and is not inside a block: {shapes}")
        blocks.append(name.rsplit("_", 2)[0])
    return sorted(set(blocks))


def prune_into(source: Any, target: Any) -> dict[str, list[int]]:
    """Give ``target`` (narrower inside some blocks) ``source``'s weights; returns each narrowed block's kept
    channel indices. Batch-norm statistics are copied as they are: recalibrate them afterwards."""
    blocks = narrowed_blocks(source, target)
    src, dst = _layers_by_name(source), _layers_by_name(target)
    kept: dict[str, list[int]] = {}
    for block in blocks:
        a_conv, a_bn, b_conv = (src[f"{block}_{part}"].get_weights() for part in ("a_conv", "a_bn", "b_conv"))
        count = dst[f"{block}_a_conv"].get_weights()[0].shape[-1]
        keep = strongest(channel_importance(a_bn[0], b_conv[0]), count)
        dst[f"{block}_a_conv"].set_weights([a_conv[0][..., keep], *a_conv[1:]])
        dst[f"{block}_a_bn"].set_weights([w[keep] for w in a_bn])
        dst[f"{block}_b_conv"].set_weights([b_conv[0][:, :, keep, :], *b_conv[1:]])
        kept[block] = keep.tolist()
    touched = {f"{block}_{part}" for block in blocks for part in ("a_conv", "a_bn", "b_conv")}
    for name, layer in dst.items():
        if name not in touched and layer.get_weights():
            layer.set_weights(src[name].get_weights())
    return kept


def prune_checkpoint(checkpoint: Path, arch: str, out: Path, faces: int = RECALIBRATION_FACES) -> dict[str, Any]:
    """Narrow ``checkpoint``'s network into ``arch``, recalibrate its batch norm, write the weights to ``out``."""
    import keras

    from training.checkpoint import load_checkpoint
    from training.models import build
    from training.npz_store import save_arrays, stored_sha256
    from training.report.macs import count_macs
    from training.report.run_info import load_run_config
    from training.train import prepare
    from training.weight_average import dev_accuracy, recalibrate_batch_norm

    config, _ = load_run_config(checkpoint.parent)
    source = load_checkpoint(checkpoint)
    keras.mixed_precision.set_global_policy("float32")
    target = build(arch, config.classes)
    kept = prune_into(source, target)
    if not kept:
        raise ValueError(f"{arch} narrows no block of {config.arch}: nothing to prune")
    train_split, dev, _, _ = prepare(config)
    pick = np.random.default_rng(config.seed).permutation(len(train_split))[:faces]
    train_x = (train_split.images[np.sort(pick)].astype(np.float32) / 255.0)[..., None]
    dev_x = (dev.images.astype(np.float32) / 255.0)[..., None]
    as_cut = dev_accuracy(target, dev_x, dev.labels)
    layers = recalibrate_batch_norm(target, train_x)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_arrays(out, {f"w{i}": np.asarray(w, np.float32) for i, w in enumerate(target.get_weights())})
    summary = {
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": stored_sha256(checkpoint),
        "source_arch": config.arch,
        "arch": arch,
        "out": str(out),
        "macs": {
            "source": sum(entry.macs for entry in count_macs(source)),
            "pruned": sum(entry.macs for entry in count_macs(target)),
        },
        "parameters": {"source": int(source.count_params()), "pruned": int(target.count_params())},
        "kept_channels": {
            block: f"{len(keep)} of {source.get_layer(f'{block}_a_conv').filters}" for block, keep in kept.items()
        },
        "batch_norm_layers_recalibrated": layers,
        "recalibration_faces": len(train_x),
        "dev_samples": len(dev),
        "dev_accuracy": {
            "source": round(dev_accuracy(source, dev_x, dev.labels), 5),
            "pruned_as_cut": round(as_cut, 5),
            "pruned_recalibrated": round(dev_accuracy(target, dev_x, dev.labels), 5),
        },
        "kept_indices": kept,
    }
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="a run's resume.npz or .keras file")
    parser.add_argument("--arch", default="emonet_slim", help="the narrower architecture (training/models.py)")
    parser.add_argument("--out", type=Path, required=True, help="the narrowed weights (.npz)")
    parser.add_argument("--faces", type=int, default=RECALIBRATION_FACES, help="Training faces for batch norm")
    args = parser.parse_args(argv)
    summary = prune_checkpoint(args.checkpoint, args.arch, args.out, args.faces)
    print(json.dumps({k: v for k, v in summary.items() if k != "kept_indices"}, indent=2))


if __name__ == "__main__":
    main()
