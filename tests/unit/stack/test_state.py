"""``stack.json``: the recorded pids are stopped exactly, in reverse start order; a recycled pid is left alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from emostream.stack.processes import process_start_time
from emostream.stack.state import recorded_status, start_order, stop_recorded


def _record(root: Path, processes: dict[str, subprocess.Popen[bytes]], started: dict[str, int | None]) -> None:
    services = {name: {"pid": p.pid, "started": started[name], "ports": {}} for name, p in processes.items()}
    (root / "stack.json").write_text(json.dumps({"services": services}))


def test_start_order_whatever_the_file_order() -> None:
    names = ["capture", "detector-1", "aggregator", "redis", "detector-0", "classifier", "other"]
    assert start_order(names) == ["redis", "classifier", "detector-0", "detector-1", "aggregator", "capture", "other"]


def test_stop_recorded_stops_exactly_our_processes(tmp_path: Path) -> None:
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    processes = {name: subprocess.Popen(sleep) for name in ("redis", "classifier", "recycled")}
    try:
        started = {name: process_start_time(p.pid) for name, p in processes.items()}
        started["recycled"] = (started["recycled"] or 0) + 1  # the pid now names another process
        _record(tmp_path, processes, started)
        status = recorded_status(tmp_path)
        assert [name for name, info in status.items() if info["running"]] == ["redis", "classifier"]
        assert stop_recorded(tmp_path) == ["classifier", "redis"]
        assert processes["redis"].wait(10) is not None and processes["classifier"].wait(10) is not None
        assert processes["recycled"].poll() is None
        assert not (tmp_path / "stack.json").exists() and recorded_status(tmp_path) == {}
    finally:
        for process in processes.values():
            process.kill()
            process.wait(10)
