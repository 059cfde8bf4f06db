"""End to end, distributed: capture-to-aggregator latency (``emostream_pipeline_latency_seconds``, p50/p99
as Prometheus' ``histogram_quantile`` reads its buckets) with a live 720p30 source through the local stack
(``emostream.stack.Stack``: Redis, classifier, detector replicas, aggregator, capture in live mode, a file
paced at its own fps), for 1/2/4 cameras and 1-2 detector replicas; frames captured, dropped by capture (by
reason), skipped by the detectors (live: newest frame wins, by reason) and aggregated; peak RSS (``VmHWM``) per
service.

    python -m bench.distributed [--seconds 12]

Where the stack cannot start here (no redis-server, a service not ready) the row says "not run: <reason>".
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2

from bench.common import SHARED_DATA
from bench.fer_package import CACHE
from bench.table import Row, not_run

COMMAND = "python -m bench.distributed"
TARGET_P99_S = 0.150
CONFIGS = ((1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (4, 2))  # (cameras, detector replicas)
CLIP = CACHE / "live-720p30.mp4"
LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")


def make_clip(seconds: float) -> Path:
    """``facenet_video.mp4`` resized to 1280x720, played forwards and backwards at 30 fps for ``seconds``."""
    path = CLIP.with_name(f"{CLIP.stem}-{int(seconds)}s.mp4")
    if path.exists():
        return path
    capture = cv2.VideoCapture(str(SHARED_DATA / "videos" / "facenet_video.mp4"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA))
    capture.release()
    loop = frames + frames[::-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (1280, 720))
    for i in range(int(seconds * 30)):
        writer.write(loop[i % len(loop)])
    writer.release()
    return path


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        match = LINE.match(line)
        if match and match[1] == name:
            out.append((dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or "")), float(match[3])))
    return out


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """Prometheus' estimate from cumulative bucket counts ``{le: count}`` (``inf`` included)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return math.nan
    rank, lower, below = q * total, 0.0, 0.0
    for le in bounds:
        if buckets[le] >= rank:
            if math.isinf(le):
                return lower
            width = buckets[le] - below
            return lower + (le - lower) * ((rank - below) / width if width else 0.0)
        lower, below = le, buckets[le]
    return lower


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def peak_rss_mb(pid: int | None) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def measure(cameras: int, detectors: int, seconds: float) -> dict[str, object]:
    from emostream.stack.config import StackConfig
    from emostream.stack.stack import Stack

    clip = make_clip(seconds + 30)  # longer than the run: a file source ends, a camera does not
    more = {f"cam{i}": str(clip) for i in range(1, cameras)}
    env = {"EMOSTREAM_CAPTURE_MODE": "live", "EMOSTREAM_CAPTURE_CAMERAS": json.dumps(more)}
    with tempfile.TemporaryDirectory(prefix="emostream-bench-") as root:
        config = StackConfig.on_free_ports(
            Path(root),
            detectors=detectors,
            camera_url=str(clip),
            services=("redis", "classifier", "detector", "aggregator", "capture"),
            env=env,
        )
        stack = Stack(config)
        try:
            stack.up()
            time.sleep(seconds)  # the measurement window: a live source runs at its own pace
            aggregator = scrape(config.ports.aggregator_metrics)
            capture = scrape(config.ports.capture_metrics)
            detectors = [scrape(port) for port in config.ports.detector_metrics]
            rss = {name: peak_rss_mb(service.pid) for name, service in stack.services.items()}
        finally:
            stack.down()
    buckets: dict[float, float] = {}
    for labels, value in samples(aggregator, "emostream_pipeline_latency_seconds_bucket"):
        le = float(labels["le"])
        buckets[le] = buckets.get(le, 0.0) + value
    dropped = by_reason([capture], "emostream_frames_dropped_total")
    skipped = by_reason(detectors, "emostream_detector_frames_skipped_total")
    captured = sum(v for _, v in samples(capture, "emostream_frames_captured_total"))
    return {"p50_s": histogram_quantile(0.5, buckets), "p99_s": histogram_quantile(0.99, buckets),
            "aggregated": max(buckets.values(), default=0.0), "captured": captured, "dropped": dropped,
            "skipped": skipped, "peak_rss_mb": rss}  # fmt: skip


def by_reason(texts: list[str], name: str) -> dict[str, float]:
    """A counter's total per ``reason`` label, over every camera and every scraped service."""
    out: dict[str, float] = {}
    for text in texts:
        for labels, value in samples(text, name):
            reason = labels.get("reason", "?")
            out[reason] = out.get(reason, 0.0) + value
    return out


def rows(quick: bool, seconds: float | None = None, configs: tuple[tuple[int, int], ...] = CONFIGS) -> list[Row]:
    name = "capture-to-aggregator latency, 720p30 live"
    target = f"p99 ≤ {TARGET_P99_S * 1000:.0f} ms (CPU)"
    if quick:
        return [not_run("distributed", name, target, "skipped in --quick (the stack's start-up alone is ~30 s)",
                        COMMAND)]  # fmt: skip
    seconds = seconds or 12.0
    out = []
    for cameras, detectors in configs:
        label = f"{name}: {cameras} camera(s), {detectors} detector(s)"
        try:
            result = measure(cameras, detectors, seconds)
        except Exception as error:  # the stack could not run here: say why, do not fake a number
            out.append(not_run("distributed", label, target, f"{error.__class__.__name__}: {error}", COMMAND))
            continue
        p50, p99 = float(result["p50_s"]), float(result["p99_s"])  # type: ignore[arg-type]
        rss = result["peak_rss_mb"]
        assert isinstance(rss, dict)
        skipped = result["skipped"]
        assert isinstance(skipped, dict)
        measured = (
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; of {result['captured']:.0f} frames captured "
            f"{result['aggregated']:.0f} aggregated, {sum(skipped.values()):.0f} skipped by the detectors "
            f"{ {k: round(v) for k, v in skipped.items()} }, dropped by capture {result['dropped']}; peak RSS MB "
            f"{ {k: round(v) for k, v in rss.items() if v} }"
        )
        passed = None if math.isnan(p99) else p99 <= TARGET_P99_S
        out.append(Row("distributed", label, target, measured, passed, f"{COMMAND} --seconds {seconds:g}", result))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=12.0, help="measurement window per configuration")
    parser.add_argument("--configs", type=int, default=len(CONFIGS), help="the first N (cameras, detectors) pairs")
    args = parser.parse_args()
    for row in rows(False, args.seconds, CONFIGS[: args.configs]):
        print(row.name, "|", row.measured, row.verdict())


if __name__ == "__main__":
    main()
