"""Which int8 recipe keeps an exported model's accuracy? Compared on a training run's dev split, never on PublicTest.

Each recipe of ``training.int8.RECIPES`` quantises the model, calibrated on the first ``--calibration`` dev faces
exactly as ``make export`` does, and is scored on the rest of the dev split: accuracy, argmax agreement with the
float32 model and the largest probability difference; with ``--speed``, crops/s at batch 64 through the runtime
engine as well (the median of ``--repeats`` calls; run it on a quiet machine).

    python -m training.int8_calibration --run-dir training/checkpoints/emonet-v3 --model models/emonet.onnx --speed
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from training.dev_check import run_dev_split
from training.export import model_input, onnx_probabilities
from training.int8 import RECIPES, SHIPPED, Int8Recipe, recipe_named, to_int8
from training.report.speed import model_speeds

CALIBRATION_FACES = 1024  # the dev faces ``make export`` calibrates its int8 model on


@dataclass(frozen=True)
class RecipeScore:
    recipe: str
    accuracy: float
    agreement: float
    max_abs_prob_diff: float
    crops_per_s: float | None = None


def compare(
    model: Path,
    images: np.ndarray,
    labels: np.ndarray,
    recipes: tuple[Int8Recipe, ...] = RECIPES,
    calibration: int = CALIBRATION_FACES,
    speed_repeats: int = 0,
) -> list[RecipeScore]:
    """float32 first, then each recipe, on ``images[calibration:]``; ``speed_repeats`` > 0 also times each one."""
    if not 0 < calibration < len(images):
        raise ValueError(f"--calibration {calibration}: needs 1..{len(images) - 1} of the {len(images)} dev faces")
    x = model_input(images)
    held_x, held_labels = x[calibration:], labels[calibration:]
    reference = onnx_probabilities(model, held_x)

    def score(name: str, path: Path) -> RecipeScore:
        probabilities = reference if path == model else onnx_probabilities(path, held_x)
        return RecipeScore(
            recipe=name,
            accuracy=float((probabilities.argmax(1) == held_labels).mean()),
            agreement=float((probabilities.argmax(1) == reference.argmax(1)).mean()),
            max_abs_prob_diff=float(np.abs(probabilities - reference).max()),
        )

    paths = {"float32": model}
    with tempfile.TemporaryDirectory(prefix="int8-") as work:
        for recipe in recipes:
            paths[recipe.name] = Path(work) / f"{recipe.name}.onnx"
            to_int8(model, paths[recipe.name], x[:calibration], recipe)
        scores = [score(name, path) for name, path in paths.items()]
        if not speed_repeats:
            return scores
        speeds = model_speeds(paths, images[calibration:], batch=64, repeats=speed_repeats)["crops_per_s"]
    return [replace(s, crops_per_s=speeds[s.recipe]) for s in scores]


def format_table(scores: list[RecipeScore], held: int) -> str:
    width = max(len(s.recipe) for s in scores)
    lines = [
        f"scored on {held} dev faces (calibrated on the ones before them); shipped recipe: {SHIPPED.name}",
        f"{'recipe':<{width}}  accuracy  agreement  max |dp|  crops/s @64",
    ]
    for s in scores:
        speed = f"{s.crops_per_s:11.0f}" if s.crops_per_s is not None else f"{'-':>11}"
        lines.append(f"{s.recipe:<{width}}  {s.accuracy:8.2%}  {s.agreement:9.2%}  {s.max_abs_prob_diff:8.3f}  {speed}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="the training run whose dev split to use")
    parser.add_argument("--model", type=Path, required=True, help="the float32 ONNX export of that run")
    parser.add_argument("--data", type=Path, help="FER2013 data, if not where the run's config.json says")
    parser.add_argument("--recipes", default=",".join(r.name for r in RECIPES), help="comma list of recipe names")
    parser.add_argument("--calibration", type=int, default=CALIBRATION_FACES, help="dev faces to calibrate on")
    parser.add_argument("--speed", action="store_true", help="also time each model at batch 64")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per model with --speed")
    parser.add_argument("--out", type=Path, help="also write the scores as JSON here")
    args = parser.parse_args(argv)
    split = run_dev_split(args.run_dir, args.data)
    recipes = tuple(recipe_named(name) for name in args.recipes.split(","))
    scores = compare(args.model, split.images, split.labels, recipes, args.calibration, args.repeats * args.speed)
    print(format_table(scores, len(split) - args.calibration))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps([asdict(s) for s in scores], indent=2) + "\n")


if __name__ == "__main__":
    main()
