"""The local distributed stack (``make up`` / ``make down``, ``emostream stack``, the integration tests and
``bench/distributed.py``): the names they import from here, now kept in :mod:`emostream.stack`, one module per job.

    stack = Stack(StackConfig.on_free_ports(Path("build/stack")))
    stack.up()                      # waits until every service is ready
    stack.redis_url                 # redis://127.0.0.1:PORT/0 (password in stack.password_file)
    stack.stop_service("classifier"); stack.start_service("classifier")
    stack.down()
"""

from __future__ import annotations

from emostream.stack.config import ORDER, Ports, StackConfig, free_port
from emostream.stack.errors import StackError
from emostream.stack.plan import Service
from emostream.stack.probes import grpc_serving, http_answers, http_ok, http_status
from emostream.stack.processes import STOP_WAIT_S, process_start_time, stop_process
from emostream.stack.prometheus import ALERT_RULES, REPO
from emostream.stack.redis_server import redis_executable
from emostream.stack.stack import Stack
from emostream.stack.state import read_state, recorded_status, stop_recorded

__all__ = [
    "ALERT_RULES", "ORDER", "REPO", "STOP_WAIT_S", "Ports", "Service", "Stack", "StackConfig", "StackError",
    "free_port", "grpc_serving", "http_answers", "http_ok", "http_status", "process_start_time", "read_state",
    "recorded_status", "redis_executable", "stop_process", "stop_recorded",
]  # fmt: skip
