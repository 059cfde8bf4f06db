"""The model card (Markdown), rendered from the report dict that ``training.evaluate`` writes as metrics.json.

Pure string formatting: every number in the card is read from the report, so the card and
``reports/<name>/metrics.json`` cannot disagree. The only numbers not measured by the command are
the literature rows of the comparison table, which the card labels "reported, not reproduced".
"""

from __future__ import annotations

import math
from typing import Any

# (model, reported FER2013 accuracy) from the literature and public repos; not reproduced here
LITERATURE: tuple[tuple[str, str], ...] = (
    ("Shallow CNN (3 conv layers)", "~62%"),
    ("CNN ensembles", "63.7–65.9%"),
    ("Keras VGG-style CNNs", "56–65%"),
    ("Mobile-size CNNs", "~54%"),
    ("`fer` package, mini-Xception", "65.5%"),
    ("Khaireddin & Chen 2021, VGGNet variant", "73.3%"),
)
SPLIT_NAMES = {"training": "Training", "publictest": "PublicTest"}
FIGURES: tuple[tuple[str, str], ...] = (
    ("confusion", "Confusion matrix, PublicTest, rows normalised"),
    ("learning_curves", "Learning curves (train vs dev)"),
    ("reliability", "Reliability before/after temperature scaling"),
    ("feature_maps", "First convolution activations"),
    ("gradcam", "Grad-CAM on the last conv stage"),
)


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def si(value: float | None) -> str:
    """1234567 -> '1.23 M'."""
    if value is None:
        return "n/a"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {suffix}"
    return f"{value:.0f}"


def duration(seconds: float) -> str:
    """4000 -> '1.11 h'; 300 -> '5.0 min'."""
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def standard_error(accuracy: float, count: int) -> float:
    """Binomial standard error of an accuracy measured on ``count`` samples."""
    return math.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(count, 1))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _scores_table(report: dict[str, Any]) -> list[str]:
    rows = []
    for split, key, label in (
        ("publictest", "no_tta", "PublicTest, no TTA (runtime default)"),
        ("publictest", "flip_tta", "PublicTest, horizontal-flip TTA"),
        ("dev", "no_tta", "dev split, no TTA"),
        ("dev", "flip_tta", "dev split, flip TTA"),
    ):
        s = report[split][key]
        error = standard_error(s["accuracy"], s["count"])
        rows.append([label, str(s["count"]), f"{pct(s['accuracy'])} ± {pct(error)}", num(s["macro_f1"]), num(s["ece"])])
    return _table(["split", "images", "accuracy (± 1 s.e.)", "macro-F1", "ECE (15 bins)"], rows)


def _per_class_table(report: dict[str, Any]) -> list[str]:
    plain, flip = report["publictest"]["no_tta"], report["publictest"]["flip_tta"]
    rows = []
    for index, name in enumerate(report["model"]["classes"]):
        p, f = plain["per_class"][name], flip["per_class"][name]
        support = sum(plain["confusion"][index])
        rows.append(
            [
                f"{index} {name.capitalize()}",
                str(support),
                num(p["precision"]),
                num(p["recall"]),
                num(p["f1"]),
                num(f["f1"]),
            ]
        )
    return _table(["class", "PublicTest images", "precision", "recall", "F1", "F1 (flip TTA)"], rows)


def _last_epoch(run: dict[str, Any]) -> str:
    last = run.get("last_dev_acc")
    return "" if last is None else f", {pct(last)} at the last epoch"


def _weight_average_lines(average: dict[str, Any] | None) -> list[str]:
    """The exported weights are the mean of an epoch range (``training.weight_average``'s ``swa.json``)."""
    if not average:
        return []
    first, last = average["averaged_epochs"]
    chosen = average["choice"] == "average"
    choice = "the dev split chose the average" if chosen else "**not** the dev split choice: it chose the last epoch"
    return [
        f"- Those weights are the mean of the weights after epochs {first}-{last} "
        f"(`python -m training.weight_average`), batch norm measured again on "
        f"{average['recalibration_images']:,} training images; dev accuracy "
        f"{pct(average['dev_accuracy_average'])} against {pct(average['dev_accuracy_last_epoch'])} for the last "
        f"epoch alone ({choice})."
    ]


def _epoch_time_note(time: dict[str, Any]) -> str:
    """The median epoch (robust to epochs that spanned a pause) and the logged CPU time, where known."""
    parts = []
    if time.get("median_epoch_seconds") is not None:
        parts.append(f"median epoch {time['median_epoch_seconds']:.0f} s")
    if time.get("cpu"):
        parts.append(f"CPU time {duration(time['cpu']['seconds'])} over the {time['cpu']['epochs']} epochs that log it")
    return f" ({'; '.join(parts)})" if parts else ""


def _exported_note(checkpoint: dict[str, Any]) -> str:
    exported = checkpoint.get("is_exported_checkpoint")
    if exported is None:
        return ""
    return " (checked: the ONNX metadata names its sha256)" if exported else " (**not** the checkpoint inspected here)"


def _speed_lines(speed: dict[str, Any] | None) -> list[str]:
    if not speed or not speed["crops_per_s"]:
        return []
    ratios, measured = speed["ratio_to_first"], speed["crops_per_s"]
    rates = ", ".join(f"{name} {rate:,.0f} crops/s ({ratios[name]:.2f}x)" for name, rate in measured.items())
    cpu = speed.get("cpu", "CPU")  # reports written before the CPU was recorded lack it
    header = f"ONNX Runtime, {cpu}, {speed['cores']} cores, batch {speed['batch']}, median of {speed['repeats']} calls"
    return [f"Speed through the runtime engine ({header}, one run): {rates}. `make bench` compares them with the "
            "`fer` package.", ""]  # fmt: skip


def _comparison(report: dict[str, Any]) -> list[str]:
    arch, public = report["architecture"], report["publictest"]
    rows = [
        [f"**{report['name']}** (this model)", si(arch["params"]), si(arch["flops"]), pct(public["no_tta"]["accuracy"]),
         num(public["no_tta"]["macro_f1"]), "this report"],
        [f"**{report['name']}** + flip TTA", si(arch["params"]), si(2 * arch["flops"]),
         pct(public["flip_tta"]["accuracy"]), num(public["flip_tta"]["macro_f1"]), "this report"],
    ]  # fmt: skip
    for baseline in report["baselines"]:
        source = baseline.get("command") or baseline.get("source") or ""
        rows.append([
            baseline["name"], si(baseline.get("params")), si(baseline.get("flops")),
            pct(baseline["publictest_accuracy"]), num(baseline.get("macro_f1")), f"`{source}`" if source else "",
        ])  # fmt: skip
    for model, reported in LITERATURE:
        rows.append([model, "", "", reported, "", "reported, not reproduced (other splits and protocols)"])
    return _table(["model", "params", "FLOPs", "PublicTest accuracy", "macro-F1", "source / command"], rows)


def _options_section(report: dict[str, Any]) -> list[str]:
    """The label options (FER+ labels, 6 classes), one change each to the same recipe (``training.options``)."""
    options = report.get("options") or []
    if not options:
        return []
    rows = []
    if report.get("six_class_accuracy") is not None:
        ferplus = report.get("ferplus") or {}
        public = report["publictest"]["no_tta"]
        rows.append([f"**{report['name']}** (this model)", "FER2013", str(len(report["model"]["classes"])),
                     pct(public["accuracy"]), num(public["macro_f1"]), pct(report["six_class_accuracy"]),
                     pct(ferplus.get("model_accuracy_vs_majority")), "this report"])  # fmt: skip
    for option in options:
        vs_ferplus = option.get("ferplus_majority") or {}
        rows.append([option["name"], option["labels"], str(option["classes"]), pct(option["publictest_accuracy"]),
                     num(option.get("macro_f1")), pct(option["six_class_accuracy"]), pct(vs_ferplus.get("accuracy")),
                     f"`{option['command']}`" if option.get("command") else ""])  # fmt: skip
    header = ["run", "trained on", "classes", "PublicTest accuracy (FER2013 labels)", "macro-F1", "6-class accuracy",
              "vs FER+ majority", "command"]  # fmt: skip
    return [
        "## Label options",
        "",
        "The same recipe trained with one change each (`--ferplus FILE --ferplus-mode soft|majority`, "
        "`--classes 6`), scored on PublicTest's FER2013 labels in the run's own classes; the 6-class column merges "
        "a 7-class model's Disgust into Angry so that both tasks compare; the FER+ column scores 7-class models "
        "against the crowd majority on the PublicTest images with FER+ votes. n/a: not defined for that run.",
        "",
        *_table(header, rows),
        "",
    ]


def _check_split_name(export: dict[str, Any]) -> str:
    return "the dev split" if export.get("check_split") == "dev" else "PublicTest"


def _export_table(export: dict[str, Any]) -> list[str]:
    rows = [
        [
            c["format"],
            f"{c['bytes']:,}",
            pct(c["argmax_agreement"], 2),
            f"{c['max_abs_prob_diff']:.2e}",
            pct(c["accuracy"]),
        ]
        for c in export["checks"]
    ]
    accuracy = "dev accuracy" if export.get("check_split") == "dev" else "PublicTest accuracy"
    return _table(["format", "bytes", "argmax agreement with Keras", "max abs prob diff", accuracy], rows)


def _limits(report: dict[str, Any]) -> list[str]:
    data, dup, ferplus = report["data"], report["duplicates"], report["ferplus"]
    training = data["class_counts"]["training"]
    public_counts = data["class_counts"]["publictest"]
    smallest = min(training, key=training.get)
    lines = [
        "- **Source.** FER2013 faces were gathered by web image search: posed and spontaneous photos, many "
        "stylised, some not faces at all. Our input is a video face crop aligned by our detector, a domain shift "
        "that these numbers do not measure.",
        "- **Expressions, not emotions.** The model labels a facial configuration; it does not know what a person "
        "feels.",
    ]
    if ferplus:
        lines.append(
            f"- **Label noise.** On the {ferplus['publictest_with_votes']:,} PublicTest images with FER+ crowd votes, "
            f"the FER2013 label agrees with the FER+ majority on {pct(ferplus['label_agreement'])}; this model "
            f"agrees with the FER+ majority on {pct(ferplus['model_accuracy_vs_majority'])} (no TTA)."
        )
    else:
        lines.append("- **Label noise.** FER2013 labels are noisy; not measured here (no FER+ label file was found).")
    lines += [
        "- **Demographics unknown.** FER2013 has no age, gender or skin-tone annotations; performance across "
        "groups is not measured and may differ.",
        f"- **Class imbalance.** {smallest.capitalize()} has {training[smallest]:,} training images "
        f"({pct(training[smallest] / max(sum(training.values()), 1))} of Training) and {public_counts[smallest]} "
        f"PublicTest images, so its per-class numbers are the least certain.",
        f"- **Duplicates.** {dup['publictest_in_training']} of {dup['publictest']:,} PublicTest images "
        f"({pct(dup['publictest_in_training'] / max(dup['publictest'], 1))}) also occur pixel for pixel in Training. "
        f"Accuracy (no TTA) on them: {pct(dup['no_tta']['duplicate']['accuracy'])}; on the other "
        f"{dup['no_tta']['non_duplicate']['count']:,}: {pct(dup['no_tta']['non_duplicate']['accuracy'])} "
        f"(flip TTA: {pct(dup['flip_tta']['duplicate']['accuracy'])} / "
        f"{pct(dup['flip_tta']['non_duplicate']['accuracy'])}). "
        f"The dev split shares {dup['dev_in_train_part']} images with the training part.",
        f"- **Not faces.** {data['rows_unknown']['publictest']} PublicTest and {data['rows_unknown']['training']} "
        "Training images have no FER+ row (row -1); most are blank frames, placeholders or text. They are scored "
        "as labelled.",
        "- **Dev scores are optimistic.** The dev split chose the checkpoint and fitted the temperature.",
        "- **PublicTest has been looked at.** It is used for this report; FER2013 PrivateTest stays held out for the "
        "final number.",
    ]
    return lines


def render_card(report: dict[str, Any], links: str) -> str:
    """The model card for ``report``; ``links`` is the report folder relative to the card."""
    model, arch, run, data, cal = (
        report["model"],
        report["architecture"],
        report["run"],
        report["data"],
        report["calibration"],
    )
    time = run["time"]
    classes = ", ".join(f"{i} {c.capitalize()}" for i, c in enumerate(model["classes"]))
    lines = [
        f"# Model card: {report['name']} (version {model['version']})",
        "",
        f"Generated by `{report['command']}`; every number here comes from that command (apart from the "
        f"literature rows of the comparison, marked as such) and is also in "
        f"[{links}/metrics.json]({links}/metrics.json). Do not edit by hand: rerun `make eval`.",
        "",
        "## Intended use",
        "",
        f"Classifies the facial expression of one aligned 48x48 grey face crop into {len(model['classes'])} FER2013 "
        "classes, "
        "inside emostream's real-time pipeline (detector, then this classifier, then per-face smoothing over time). "
        "Meant for aggregate, over-time analytics of expressions in video. Not for decisions about individuals "
        "(hiring, grading, policing, health), and not a detector of felt emotion, truthfulness or intent.",
        "",
        "## Classes and input",
        "",
        f"- Class order (output index): {classes}.",
        f"- Input: `face`, float32 (N, {model['input_size']}, {model['input_size']}, 1), a grayscale face crop aligned "
        "on the eyes by emostream's detector, pixels scaled to [0, 1]. Per-image standardisation (zero mean, unit "
        "variance) happens inside the graph.",
        f"- Output: calibrated probabilities softmax(logits / T), T = {model['temperature']:.4f} "
        "(stored in the ONNX metadata).",
        "",
        "## Data",
        "",
        f"- FER2013 (Goodfellow et al. 2013), file `{data['path']}`, sha256 `{data['sha256']}`"
        + ("" if data["run_sha256"] in (None, data["sha256"]) else " (**differs from the run's data**)")
        + ".",
        "- sha256 of the raw arrays: " + ", ".join(f"{k} `{v[:16]}`" for k, v in data["arrays_sha256"].items()) + ".",
        f"- Splits: FER2013 Training has {data['splits']['training']:,} images; the run trained on "
        f"{data['splits']['train_part']:,} of them"
        + (f" (a subset capped at {data['max_train_samples']:,})" if data["max_train_samples"] else "")
        + f" and chose its checkpoint and temperature on a dev split of {data['splits']['dev']:,} "
        f"({data['dev_method']}). PublicTest ({data['splits']['publictest']:,} images) is used only by this report.",
        "",
        *_table(
            ["split", *[c.capitalize() for c in data["class_counts"]["training"]]],
            [
                [SPLIT_NAMES.get(split, split), *[f"{n:,}" for n in counts.values()]]
                for split, counts in data["class_counts"].items()
            ],
        ),
        "",
        "## Architecture and cost",
        "",
        f"- `{run['config'].get('arch', arch['name'])}`: {arch['layers']} Keras layers, {arch['params']:,} parameters "
        f"({arch['trainable_params']:,} trainable).",
        f"- {arch['macs']:,} MACs = {si(arch['flops'])}FLOPs per face ({arch['counted']}).",
        f"- ONNX file: {model['bytes']:,} bytes, sha256 `{model['sha256'][:16]}`.",
        "",
        "## Training",
        "",
        f"- Command: `{run['command']}`",
        f"- {run['epochs_in_history']} epochs in history.csv; best dev accuracy {pct(run['best_dev_acc'])} at epoch "
        f"{run['best_dev_epoch']}{_last_epoch(run)}; the card's model was exported from "
        f"`{report['checkpoint']['path']}`{_exported_note(report['checkpoint'])}.",
        *_weight_average_lines(report.get("weight_average")),
        f"- Time: {duration(time['seconds'])} over {time['epochs_timed']} timed epochs (sum of timing.jsonl)"
        f"{_epoch_time_note(time)}, Keras backend {', '.join(time['backends']) or 'unknown'}, on a {run['machine']}.",
        "",
        "## Results",
        "",
        "Scored through the runtime path (`OnnxEmotionClassifier`, ONNX Runtime on CPU) on FER2013 PublicTest.",
        "",
        *_scores_table(report),
        "",
        *_per_class_table(report),
        "",
        "## Calibration",
        "",
        f"Temperature T = {cal['temperature']:.4f}, fitted on the {cal['fitted_on']}. On PublicTest (no TTA):",
        "",
        *_table(
            ["", "ECE (15 bins)", "NLL (nats)"],
            [
                [label, num(cal["publictest"][key]["ece"]), num(cal["publictest"][key]["nll"])]
                for key, label in (("before", "before (T = 1)"), ("after", f"after (T = {cal['temperature']:.4f})"))
            ],
        ),
        "",
        f"Method: {cal['method']}.",
        "",
    ]
    lines += ["## Export checks", ""]
    if report["export"]:
        lines += [f"From `{model['path'].rsplit('/', 1)[-1].removesuffix('.onnx')}.export.json` (each format "
                  f"against Keras on {_check_split_name(report['export'])}):", "",
                  *_export_table(report["export"]), ""]  # fmt: skip
    else:
        lines += ["No `.export.json` beside the model: not checked.", ""]
    lines += _speed_lines(report.get("speed"))
    checkpoint = report["checkpoint"]
    if checkpoint["is_exported_checkpoint"] is False:
        lines += [f"Note: the figures use `{checkpoint['path']}`, which is **not** the checkpoint this ONNX was "
                  "exported from.", ""]  # fmt: skip
    lines += [
        "## Comparison",
        "",
        "Rows with a command were trained and scored in this repo on the same PublicTest; literature rows are "
        "reported numbers, not reproduced, and come from other splits and protocols.",
        "",
        *_comparison(report),
        "",
        *_options_section(report),
        "## Limits and known biases",
        "",
        *_limits(report),
        "",
        "## Figures",
        "",
    ]
    for key, title in FIGURES:
        if key in report["figures"]:
            lines += [f"### {title}", "", f"![{title}]({links}/{report['figures'][key]})", ""]
    for note in report["notes"]:
        lines += [f"- {note}"]
    return "\n".join(lines).rstrip() + "\n"
