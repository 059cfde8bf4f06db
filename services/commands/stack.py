"""``emostream stack up|down|status``: the local distributed stack as processes on loopback (no Docker).

``up`` starts Redis (with a generated password), the classifier, detector(s), the aggregator, capture (when
``CAMERA_URL`` is set in the environment: a URL may hold credentials, so it never goes on the command line)
and Prometheus (if installed), waits until each is ready, and records pids and ports in ROOT/stack.json.
``down`` stops exactly those pids; ``status`` says which still run.

    CAMERA_URL=rtsp://user:pass@cam/stream emostream stack up
    emostream stack status
    emostream stack down
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from emostream.commands.common import fail

DEFAULT_ROOT = Path("build/stack")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stack", help="start/stop the local distributed stack (make up / make down)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start every service, wait until ready, write ROOT/stack.json")
    up.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="state, logs and configs (default build/stack)")
    up.add_argument("--detectors", type=int, default=1, help="detector processes (default 1)")
    up.add_argument("--camera", default="cam0", help="camera name of CAMERA_URL (default cam0)")
    up.add_argument("--free-ports", action="store_true", help="any free ports instead of the standard ones")
    up.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    up.set_defaults(handler=run_up)
    for name, handler, text in (("down", run_down, "stop the recorded pids"), ("status", run_status, "show them")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--root", type=Path, default=DEFAULT_ROOT)
        action.set_defaults(handler=handler)


def run_up(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from emostream.stack.config import ORDER, Ports, StackConfig
    from emostream.stack.errors import StackError
    from emostream.stack.stack import Stack
    from emostream.stack.state import read_state

    if read_state(args.root).get("services"):
        return fail(f"{args.root}/stack.json lists a running stack: `emostream stack down` first")
    logging.getLogger("emostream").setLevel(logging.INFO)
    services = tuple(s for s in ORDER if not (s == "prometheus" and args.no_prometheus))
    config = StackConfig(root=args.root, services=services, camera_url=os.environ.get("CAMERA_URL") or None,
                         camera=args.camera)  # fmt: skip
    detector_ports = tuple(9103 if index == 0 else 9110 + index for index in range(args.detectors))
    ports = Ports.free(args.detectors) if args.free_ports else Ports(detector_metrics=detector_ports)
    stack = Stack(replace(config, ports=ports))
    try:
        stack.up()
    except StackError as error:
        return fail(str(error))
    _print_status(args.root)
    print(f"redis: {stack.redis_url} (password in {stack.password_file}); stop with `emostream stack down`")
    return 0


def run_down(args: argparse.Namespace) -> int:
    from emostream.stack.state import stop_recorded

    stopped = stop_recorded(args.root)
    print(f"stopped: {', '.join(stopped) or 'nothing (no stack recorded)'}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    return 0 if _print_status(args.root) else 1


def _print_status(root: Path) -> bool:
    """One line per recorded service; True if every one runs."""
    from emostream.stack.state import recorded_status

    status = recorded_status(root)
    if not status:
        print(f"no stack recorded in {root}/stack.json")
        return False
    for name, info in status.items():
        state = "running" if info["running"] else "STOPPED"
        print(f"{name:<12} pid {info['pid']:<8} {state:<8} {json.dumps(info['ports'])}")
    sys.stdout.flush()
    return all(bool(info["running"]) for info in status.values())
