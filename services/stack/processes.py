"""The stack's processes: spawn one (its own session, its log file), tell it from a recycled pid, stop it
(terminate, a bounded wait, kill)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

STOP_WAIT_S = 10.0


def spawn(argv: list[str], env: dict[str, str], log_file: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """``argv`` in a new session (a signal to the stack's caller does not reach it), stdout and stderr
    appended to ``log_file``, no stdin."""
    with log_file.open("ab") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=cwd,
        )  # fmt: skip


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def stop_process(pid: int, wait: Callable[[float], object] | None = None, timeout: float = STOP_WAIT_S) -> None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL. ``wait`` is Popen.wait for our own children."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    if wait is not None:
        try:
            wait(timeout)
            return
        except subprocess.TimeoutExpired:
            pass
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    if alive(pid):
        log.warning("event=kill pid=%d after_s=%.0f", pid, timeout)
        os.kill(pid, signal.SIGKILL)
        if wait is not None:
            wait(timeout)


def process_start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot, /proc/PID/stat field 22): with the pid, names one process."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def same_process(pid: int, started: int | None) -> bool:
    """The pid is still the process we started (not a recycled pid) and is not a zombie."""
    return started is not None and process_start_time(pid) == started and alive(pid)
