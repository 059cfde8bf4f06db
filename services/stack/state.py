"""``ROOT/stack.json``: the pids, start times and ports of a running stack, so that ``emostream stack down``
(another process, later) stops exactly those processes and ``status`` says which still run."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from emostream.stack.config import ORDER
from emostream.stack.layout import Layout
from emostream.stack.plan import Service
from emostream.stack.processes import same_process, stop_process


def write_state(layout: Layout, redis_url: str, services: Iterable[Service]) -> None:
    """Record every started service (those with a pid) in ``layout.state_file``."""
    state = {
        "root": str(layout.root), "redis_url": redis_url, "password_file": str(layout.password_file),
        "services": {s.name: {"pid": s.pid, "started": s.started, "argv": s.argv, "ports": s.ports,
                              "log": str(layout.log_file(s.name))}
                     for s in services if s.pid is not None},
    }  # fmt: skip
    layout.state_file.write_text(json.dumps(state, indent=2) + "\n")


def read_state(root: Path) -> dict[str, object]:
    path = Layout(root).state_file
    return json.loads(path.read_text()) if path.exists() else {}


def stop_recorded(root: Path) -> list[str]:
    """Stop exactly the pids recorded in ``root/stack.json`` (in reverse start order); returns their names."""
    state = read_state(root)
    services = state.get("services", {})
    assert isinstance(services, dict)
    stopped = []
    for name in reversed(start_order(services)):
        info = services[name]
        pid = int(info["pid"])
        if same_process(pid, info.get("started")):
            stop_process(pid)
            stopped.append(name)
    Layout(root).state_file.unlink(missing_ok=True)
    return stopped


def start_order(services: Iterable[str]) -> list[str]:
    """Names in start order (``detector-1`` after ``classifier``), whatever order the file lists them in."""
    return sorted(services, key=lambda n: (ORDER.index(n.split("-")[0]) if n.split("-")[0] in ORDER else 99, n))


def recorded_status(root: Path) -> dict[str, dict[str, object]]:
    """Each recorded service: pid, ports, and whether it is still running."""
    services = read_state(root).get("services", {})
    assert isinstance(services, dict)
    return {name: {"pid": info["pid"], "ports": info["ports"],
                   "running": same_process(int(info["pid"]), info.get("started"))}
            for name, info in services.items()}  # fmt: skip
