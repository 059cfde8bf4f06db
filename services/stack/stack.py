"""The local distributed stack without Docker: Redis, classifier, detector(s), aggregator, capture (when a camera
URL is given) and Prometheus (when installed), as processes on loopback. ``make up`` / ``make down`` and the
integration tests use it.

Every process gets its settings through the environment (secrets by file, never on a command line), logs to
``ROOT/logs/<name>.log``, and is recorded with its pid and ports in ``ROOT/stack.json``;
:func:`~emostream.stack.state.stop_recorded` stops exactly those pids (terminate, a bounded wait, kill).

    stack = Stack(StackConfig.on_free_ports(Path("build/stack")))
    stack.up()                      # waits until every service is ready
    stack.redis_url                 # redis://127.0.0.1:PORT/0 (password in stack.password_file)
    stack.stop_service("classifier"); stack.start_service("classifier")
    stack.down()
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from emostream.stack.config import StackConfig
from emostream.stack.errors import StackError
from emostream.stack.layout import Layout
from emostream.stack.plan import Service, plan
from emostream.stack.processes import STOP_WAIT_S, process_start_time, spawn, stop_process
from emostream.stack.prometheus import prometheus_config
from emostream.stack.redis_server import write_redis_files
from emostream.stack.state import write_state

log = logging.getLogger(__name__)


class Stack:
    """Starts, restarts and stops the stack's processes; see the module docstring."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.layout = Layout(self.root)
        self.services: dict[str, Service] = {}

    # --- paths and addresses -------------------------------------------------------------------------------

    @property
    def password_file(self) -> Path:
        return self.layout.password_file

    @property
    def redis_url(self) -> str:
        return self.config.redis_url

    @property
    def state_file(self) -> Path:
        return self.layout.state_file

    def log_file(self, name: str) -> Path:
        return self.layout.log_file(name)

    def address(self, port: int) -> str:
        return self.config.address(port)

    def tail(self, name: str, lines: int = 40) -> str:
        """The last ``lines`` of a service's log (``detector``: of every ``detector-N``)."""
        return self.layout.tail(name, lines)

    # --- lifecycle -----------------------------------------------------------------------------------------

    def write_state(self) -> None:
        write_state(self.layout, self.redis_url, self.services.values())

    def up(self) -> None:
        """Start every planned service in order, each ready before the next; on failure stop what started."""
        self._write_files()
        try:
            for service in plan(self.config, self.layout):
                self.services[service.name] = service
                self._start(service)
                self.write_state()
        except BaseException:
            self.down()
            raise

    def _write_files(self) -> None:
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        write_redis_files(self.layout, self.config.host, self.config.ports.redis)
        self.layout.prometheus_yml.write_text(prometheus_config(self.config))

    def _start(self, service: Service) -> None:
        env = os.environ | {"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"} | self.config.env | service.env
        service.process = spawn(service.argv, env, self.log_file(service.name), self.root)
        service.pid = service.process.pid
        service.started = process_start_time(service.pid)
        log.info("event=started service=%s pid=%d ports=%s", service.name, service.pid, service.ports)
        self.wait_ready(service.name)

    def wait_ready(self, name: str, timeout: float | None = None) -> None:
        service = self.services[name]
        deadline = time.monotonic() + (timeout or self.config.ready_timeout_s)
        while time.monotonic() < deadline:
            if service.process is not None and service.process.poll() is not None:
                raise StackError(f"{name} exited with {service.process.returncode}; see {self.log_file(name)}:\n"
                                 + self.tail(name))  # fmt: skip
            if service.ready():
                return
            time.sleep(0.1)
        raise StackError(f"{name} not ready after {timeout or self.config.ready_timeout_s}s:\n{self.tail(name)}")

    def start_service(self, name: str) -> None:
        """(Re)start one service of the plan, on its ports, and wait until it is ready."""
        service = next(s for s in plan(self.config, self.layout) if s.name == name)
        self.services[name] = service
        self._start(service)
        self.write_state()

    def stop_service(self, name: str, kill: bool = False) -> None:
        """SIGKILL with ``kill`` (a crash), else terminate with a bounded wait, then kill."""
        service = self.services.get(name)
        if service is None or service.process is None:
            return
        if kill:
            service.process.kill()
            service.process.wait(STOP_WAIT_S)
        else:
            stop_process(service.process.pid, service.process.wait)
        service.pid = None
        self.write_state()

    def down(self) -> None:
        for name in reversed(list(self.services)):
            self.stop_service(name)
        self.services.clear()
