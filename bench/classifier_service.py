"""The classifier service under load: crops/s and p50/p99 latency vs concurrent asyncio gRPC clients, against
a real ``emostream serve classifier`` subprocess on loopback, with dynamic batching on (the defaults:
opportunistic, no wait), on with a 2 ms wait for a fuller batch (``--max-delay-ms 2``, the old default) and off
(``--max-batch 1 --max-delay-ms 0``). Each client sends one crop per request (one face per frame), drawn from
FER2013's validation crops. The batch-size histogram is scraped from the server's ``/metrics``.

    python -m bench.classifier_service [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import grpc
import numpy as np

from bench.common import SHARED_DATA
from bench.table import Row
from emostream.classifier.wire import crops_request
from emostream.protos.v1 import classifier_pb2_grpc
from emostream.stack.config import free_port
from emostream.stack.probes import grpc_serving

CLIENTS = (1, 4, 16, 32, 64)
TARGET_CLIENTS, TARGET_RATIO = 32, 3.0
ON, WAIT, OFF = "batching on", "batching on, 2 ms wait", "batching off (batch 1)"
MODES = {ON: [], WAIT: ["--max-delay-ms", "2"], OFF: ["--max-batch", "1", "--max-delay-ms", "0"]}
COMMAND = "python -m bench.classifier_service"
READY_TIMEOUT_S = 120.0


@dataclass
class Level:
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    batch_histogram: dict[str, float]

    @property
    def crops_per_s(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def load_crops(count: int = 512) -> np.ndarray:
    with np.load(SHARED_DATA / "fer2013" / "fer2013_train_val.npz", mmap_mode="r") as data:
        return np.ascontiguousarray(data["x_val"][:count], dtype=np.uint8)


class Server:
    """``emostream serve classifier`` on free ports; stopped by its pid (SIGTERM, bounded wait, kill)."""

    def __init__(self, extra: list[str]) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        argv = [
            sys.executable,
            "-m",
            "emostream.cli",
            "serve",
            "classifier",
            "--port",
            str(self.port),
            "--metrics-port",
            str(self.metrics_port),
            "--no-analyzer",
            *extra,
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not grpc_serving(self.target):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                err = self.process.stderr.read().decode()[-2000:] if self.process.stderr else ""
                raise RuntimeError(f"classifier did not become SERVING: {err}")
            time.sleep(0.2)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def batch_histogram(self) -> dict[str, float]:
        """Cumulative ``emostream_classifier_batch_size`` bucket counts, by ``le``."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        pattern = r'^emostream_classifier_batch_size_bucket\{le="([^"]+)"\} ([0-9.e+]+)$'
        return {le: float(v) for le, v in re.findall(pattern, text, re.MULTILINE)}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def per_bucket(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Cumulative bucket counts at two times -> batches per bucket in between (``le`` upper bounds)."""
    out, previous = {}, 0.0
    for le in after:
        cumulative = after[le] - before.get(le, 0.0)
        out[le] = cumulative - previous
        previous = cumulative
    return {le: n for le, n in out.items() if n > 0}


async def drive(target: str, crops: np.ndarray, clients: int, seconds: float, warmup: float) -> tuple[int, list[float]]:
    """``clients`` closed-loop clients, one channel each; requests and latencies after ``warmup`` seconds."""
    requests = [crops_request(crops[i : i + 1]) for i in range(len(crops))]
    channels = [grpc.aio.insecure_channel(target) for _ in range(clients)]
    loop = asyncio.get_running_loop()
    start = loop.time() + warmup
    stop = start + seconds
    latencies: list[float] = []

    async def client(index: int, channel: grpc.aio.Channel) -> None:
        stub = classifier_pb2_grpc.EmotionClassifierStub(channel)
        i = index
        while True:
            sent = loop.time()
            if sent >= stop:
                return
            await stub.Classify(requests[i % len(requests)], timeout=30)
            i += clients
            if sent >= start:
                latencies.append((loop.time() - sent) * 1000)

    try:
        await asyncio.gather(*(client(i, c) for i, c in enumerate(channels)))
    finally:
        await asyncio.gather(*(c.close() for c in channels))
    return len(latencies), latencies


def measure(extra: list[str], crops: np.ndarray, seconds: float, warmup: float) -> list[Level]:
    server = Server(extra)
    try:
        levels = []
        for clients in CLIENTS:
            before = server.batch_histogram()
            began = time.perf_counter()
            count, latencies = asyncio.run(drive(server.target, crops, clients, seconds, warmup))
            elapsed = time.perf_counter() - began - warmup
            levels.append(Level(clients, count, elapsed, latencies, per_bucket(before, server.batch_histogram())))
        return levels
    finally:
        server.stop()


def rows(quick: bool, seconds: float | None = None) -> list[Row]:
    seconds = seconds or (0.5 if quick else 4.0)
    warmup = 0.2 if quick else 1.0
    crops = load_crops()
    results = {mode: measure(extra, crops, seconds, warmup) for mode, extra in MODES.items()}
    out = []
    for mode, levels in results.items():
        for level in levels:
            measured = (
                f"{level.crops_per_s:.0f} crops/s, p50 {level.percentile(50):.1f} ms, p99 {level.percentile(99):.1f} ms"
            )
            if mode != OFF:
                measured += f"; batches by size (le): {level.batch_histogram}"
            out.append(
                Row(
                    "classifier service",
                    f"{mode}, {level.clients} clients",
                    "",
                    measured,
                    None,
                    COMMAND,
                    {
                        "crops_per_s": level.crops_per_s,
                        "p50_ms": level.percentile(50),
                        "p99_ms": level.percentile(99),
                        "requests": level.requests,
                        "batch_histogram": level.batch_histogram,
                    },
                )
            )
    on, off = (next(lv for lv in results[m] if lv.clients == TARGET_CLIENTS) for m in (ON, OFF))
    ratio = on.crops_per_s / off.crops_per_s
    for on_level, wait_level in zip(results[ON], results[WAIT], strict=True):
        out.append(
            Row(
                "classifier service",
                f"no wait / 2 ms wait at {on_level.clients} clients",
                "",
                f"{on_level.crops_per_s / wait_level.crops_per_s:.2f}x crops/s, p50 {on_level.percentile(50):.1f} vs "
                f"{wait_level.percentile(50):.1f} ms",
                None,
                COMMAND,
                {"ratio": on_level.crops_per_s / wait_level.crops_per_s},
            )
        )
    out.append(
        Row(
            "classifier service",
            f"batching on / off at {TARGET_CLIENTS} clients",
            f"≥ {TARGET_RATIO:g}x",
            f"{ratio:.2f}x ({on.crops_per_s:.0f} vs {off.crops_per_s:.0f} crops/s)",
            ratio >= TARGET_RATIO,
            COMMAND,
            {"ratio": ratio},
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="timed seconds per concurrency level")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in rows(args.quick, None if args.quick else args.seconds):
        print(row.name, "|", row.measured)


if __name__ == "__main__":
    main()
