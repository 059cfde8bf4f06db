"""Deployment as code, checked offline: docker-compose.yml, deploy/Dockerfile, the kustomize base, the Prometheus
config and alert rules, and the Grafana dashboard.

No Docker engine, cluster or Grafana is needed: ``docker-compose config``, ``promtool`` and ``kubectl kustomize``
do the parsing (a test skips, saying which, where its tool is missing), and every command, setting and metric
the files name is checked against the package itself. ``make validate-deploy`` runs this file.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEV_SECRETS = REPO / "deploy" / "secrets" / "dev"
PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
ALERT_RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = REPO / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "emostream.json"
GRAFANA_PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
K8S = REPO / "deploy" / "k8s"
K8S_BASE = K8S / "base"
CAMERA_URL = "rtsp://viewer:hunter2@camera.example/stream"
STAGES = ("classifier", "capture", "detector", "aggregator")
SECRET_NAMES = {"redis_password", "grpc_token", "grafana_admin_password", "camera_url"}
REQUIRED_ALERTS = {
    "EmostreamClassifierQueueSaturated", "EmostreamClassifierResourceExhausted", "EmostreamDeadLettersRising",
    "EmostreamSourceDown", "EmostreamConsumerLagHigh", "EmostreamPipelineLatencyHigh", "EmostreamNoFrames",
}  # fmt: skip
THRESHOLD = re.compile(r"\s*(?:>=|<=|==|!=|>|<)\s*-?[0-9][0-9.e+-]*\s*$")
METRIC_NAME = re.compile(r"\b(emostream_[a-z0-9_]+)\b")
GRAFANA_VARIABLES = re.compile(r"\$(?:__rate_interval|__interval|__range|\{camera\}|camera)\b")


# ---- helpers, shared with test_prometheus_dashboard.py --------------------------------------------------------


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def dashboard_queries() -> list[tuple[str, str]]:
    """``(id, expr)`` of every query of every panel, ids like ``"7/A Active tracks"``."""
    return [
        (f"{panel['id']}/{target['refId']} {panel['title']}", target["expr"])
        for panel in iter_panels(dashboard()["panels"])
        for target in panel.get("targets", [])
    ]


def substitute(expr: str, camera: str = ".*", rate_interval: str = "1m", range_: str = "10m") -> str:
    """The PromQL that Grafana would send: template variables replaced."""
    values = {"$__rate_interval": rate_interval, "$__interval": "15s", "$__range": range_,
              "${camera}": camera, "$camera": camera}  # fmt: skip
    return GRAFANA_VARIABLES.sub(lambda match: values[match.group(0)], expr)


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def without_threshold(expr: str) -> str:
    """An alert's expression without its final comparison: the value that the threshold is applied to."""
    return THRESHOLD.sub("", expr.strip())


# ---- what the package really provides -------------------------------------------------------------------------


def emostream_script() -> Path:
    script = Path(sys.executable).parent / "emostream"
    assert script.exists(), f"the console script {script} is not installed (pip install -e .)"
    return script


@cache
def command_help(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(emostream_script()), *argv, "--help"], capture_output=True, text=True, timeout=120,
                          check=False, env=os.environ | {"PYTHONUNBUFFERED": "1"})  # fmt: skip


def settings_class(stage: str) -> type[BaseSettings]:
    module = importlib.import_module(f"emostream.{stage}.settings")
    cls: type[BaseSettings] = getattr(module, f"{stage.capitalize()}Settings")
    return cls


@cache
def exported_metrics() -> dict[str, tuple[str, ...]]:
    """Every sample name the four services export (counters with ``_total``, histograms with ``_bucket``,
    ``_sum``, ``_count``), with the metric's label names."""
    from emostream.aggregator.metrics import AggregatorMetrics
    from emostream.capture.metrics import CaptureMetrics
    from emostream.classifier.metrics import ClassifierMetrics
    from emostream.detector.metrics import DetectorMetrics

    names: dict[str, tuple[str, ...]] = {}
    for metrics_class in (ClassifierMetrics, CaptureMetrics, DetectorMetrics, AggregatorMetrics):
        for metric in vars(metrics_class(CollectorRegistry())).values():
            if not hasattr(metric, "_labelnames"):
                continue
            name, kind, labels = metric._name, metric._type, tuple(metric._labelnames)
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}[kind]
            for suffix in suffixes:
                names[name + suffix] = labels + (("le",) if suffix == "_bucket" else ())
    return names


def run_tool(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
                          env={k: v for k, v in os.environ.items() if k != "CAMERA_URL"} | env)  # fmt: skip


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (Debian package: {DEBIAN_PACKAGES.get(tool, tool)})")
    return path


DEBIAN_PACKAGES = {"docker-compose": "docker-compose", "promtool": "prometheus", "kubectl": "kubectl"}


# ---- docker-compose.yml ---------------------------------------------------------------------------------------


def compose_config(*profiles: str, quiet: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    options = [option for profile in profiles for option in ("--profile", profile)]
    argv = [require("docker-compose"), "-f", str(COMPOSE_FILE), *options, "config", *(["-q"] if quiet else [])]
    return run_tool(argv, **env)


def bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts (short or long volume syntax)."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        if source.startswith(("/", ".")):
            mounts[target] = Path(source).resolve()
    return mounts


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The resolved compose model (every profile), as docker-compose sees it."""
    result = compose_config("gpu", CAMERA_URL=CAMERA_URL)
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = yaml.safe_load(result.stdout)
    return model


def emostream_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if "build" in s}


def stage_of(command: list[str]) -> str:
    assert command[:1] == ["serve"] and command[1] in STAGES, f"unexpected command {command}"
    return command[1]


@pytest.mark.parametrize("profiles", [(), ("gpu",)], ids=["default", "gpu"])
def test_compose_config_is_valid(profiles: tuple[str, ...]) -> None:
    result = compose_config(*profiles, quiet=True, CAMERA_URL=CAMERA_URL)
    assert result.returncode == 0, result.stderr


def test_compose_needs_a_camera_url() -> None:
    result = compose_config(quiet=True)
    assert result.returncode != 0
    assert "CAMERA_URL" in result.stderr


def test_compose_has_the_whole_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"redis", *STAGES, "prometheus", "grafana"} <= set(services)
    assert services["classifier-gpu"]["profiles"] == ["gpu"]
    assert all("profiles" not in services[name] for name in ("redis", *STAGES, "prometheus", "grafana"))
    assert services["capture"]["environment"]["EMOSTREAM_CAPTURE_SOURCE"] == CAMERA_URL


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}: {condition}"
            assert dependency in services


def test_emostream_images_are_built_from_deploy_and_run_real_commands(compose: dict[str, Any]) -> None:
    services = emostream_services(compose)
    assert set(services) == {*STAGES, "classifier-gpu"}
    for name, service in services.items():
        assert Path(service["build"]["context"]).resolve() == REPO
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert "entrypoint" not in service, "the image's ENTRYPOINT (emostream) is the entry point"
        stage = stage_of(service["command"])
        assert name.startswith(stage)
        help_ = command_help(*service["command"])
        assert help_.returncode == 0, f"emostream {' '.join(service['command'])} --help: {help_.stderr}"
        assert re.search(r"--(?!help)[a-z]", help_.stdout), (
            f"`emostream serve {stage}` takes no options: a placeholder?"
        )


def test_gpu_profile_uses_onnxruntime_gpu_and_an_nvidia_device(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["classifier-gpu"]
    assert gpu["build"]["args"]["EXTRA"] == "gpu"
    assert "onnxruntime-gpu" in gpu["build"]["args"]["EXTRA_PIP"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert json.loads(gpu["environment"]["EMOSTREAM_CLASSIFIER_PROVIDERS"])[0] == "CUDAExecutionProvider"
    assert compose["services"]["classifier"]["build"]["args"]["EXTRA"] == "cpu"


def test_healthcheck_commands_exist(compose: dict[str, Any]) -> None:
    for name, service in emostream_services(compose).items():
        test = service["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "emostream.commands.health"], f"{name}: {test}"
        probe = subprocess.run([sys.executable, *test[2:], "--help"], capture_output=True, text=True, timeout=60,
                               check=False)  # fmt: skip
        assert probe.returncode == 0, f"{name}: {probe.stderr}"


def test_service_settings_are_real_fields_with_valid_values(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for service in emostream_services(compose).values():
        stage = stage_of(service["command"])
        mounted = {s if isinstance(s, str) else s.get("target", s["source"]) for s in service.get("secrets", [])}
        check_settings(stage, service["environment"], mounted, monkeypatch, tmp_path)


def check_settings(
    stage: str, env: dict[str, str], mounted: set[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every ``EMOSTREAM_<STAGE>_*`` variable is a field of the stage's settings and the settings load from
    them; secret files are mounted ones; nothing secret is in a plain value."""
    prefix = f"EMOSTREAM_{stage.upper()}_"
    cls = settings_class(stage)
    for key in os.environ:
        if key.startswith("EMOSTREAM_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if not key.startswith(prefix):
            continue
        field = key.removeprefix(prefix).lower()
        assert field in cls.model_fields, f"{key}: {cls.__name__} has no field {field!r}"
        value = str(value)
        if value.startswith("/run/secrets/"):
            secret = value.removeprefix("/run/secrets/")
            assert secret in mounted, f"{key} names {value}, but {stage} does not mount that secret"
            local = tmp_path / secret
            local.write_text((DEV_SECRETS / secret).read_text())
            value = str(local)
        assert not any(word in field for word in ("password", "token")) or field.endswith("_file"), (
            f"{key}: secrets come from files, not from the environment"
        )
        monkeypatch.setenv(key, value)
    cls()  # validates types and cross-field rules (extra="forbid" refuses unknown EMOSTREAM_<STAGE>_ keys)


def test_secrets_come_from_files(compose: dict[str, Any]) -> None:
    secrets = compose["secrets"]
    assert set(secrets) == {"redis_password", "grpc_token", "grafana_admin_password"}
    for name in secrets:
        assert (DEV_SECRETS / name).read_text().strip(), f"the development secret {name} is empty"
    dev_values = [(DEV_SECRETS / name).read_text().strip() for name in secrets]
    rendered = COMPOSE_FILE.read_text()
    assert not any(value in rendered for value in dev_values), "a secret's value is written in the compose file"
    for name, service in compose["services"].items():
        argv = " ".join(map(str, service.get("command", []) or [])) + " ".join(service.get("entrypoint", []) or [])
        assert not re.search(r"--(?:requirepass|token|password)\b", argv), f"{name}: a secret on a command line"


def test_prometheus_scrapes_the_ports_the_services_listen_on(compose: dict[str, Any]) -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    services = compose["services"]
    for stage in STAGES:
        port = int(services[stage]["environment"][f"EMOSTREAM_{stage.upper()}_METRICS_PORT"])
        (sd,) = jobs[stage]["dns_sd_configs"]
        assert sd["port"] == port, f"job {stage} scrapes port {sd['port']}, {stage} serves /metrics on {port}"
        aliases = {stage} | set(services[stage].get("networks", {}).get("default", {}).get("aliases", []))
        assert set(sd["names"]) <= aliases
    assert bind_mounts(services["prometheus"])["/etc/prometheus"] == PROMETHEUS_CONFIG.parent


def test_grafana_provisions_the_datasource_and_dashboards(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounts = bind_mounts(grafana)
    assert mounts["/etc/grafana/provisioning"] == GRAFANA_PROVISIONING
    (datasource,) = yaml.safe_load((GRAFANA_PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((GRAFANA_PROVISIONING / "dashboards" / "emostream.yml").read_text())["providers"]
    assert mounts[provider["options"]["path"]] == DASHBOARD.parent
    variable = next(v for v in dashboard()["templating"]["list"] if v["type"] == "datasource")
    assert variable["current"]["value"] == datasource["uid"]


# ---- deploy/Dockerfile ----------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_is_multi_stage_non_root_with_the_console_script_as_entrypoint() -> None:
    instructions = dockerfile_instructions()
    stages = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    assert len(stages) >= 2, "multi-stage: build, then runtime"
    final = instructions[stages[-1] :]
    args = dict(value.partition("=")[::2] for op, value in instructions if op == "ARG")
    users = [value for op, value in final if op == "USER"]
    assert users, "the runtime stage sets no USER (it would run as root)"
    user = re.sub(r"\$\{?(\w+)\}?", lambda m: args[m.group(1)], users[-1]).split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000), f"USER {users[-1]}"
    (entrypoint,) = [json.loads(value) for op, value in final if op == "ENTRYPOINT"]
    assert entrypoint == ["emostream"]
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^emostream = "emostream\.cli:main"$', pyproject, re.M), "emostream is not a console script"
    assert args["EXTRA"] == "cpu"
    assert any(op == "RUN" and '".[${EXTRA}]"' in value for op, value in instructions), "pip install .[EXTRA]"


def test_dockerfile_context_holds_what_it_copies() -> None:
    allowed = {line[1:].rstrip("/") for line in DOCKERIGNORE.read_text().splitlines() if line.startswith("!")}
    assert DOCKERIGNORE.read_text().splitlines()[2:3] == ["*"] or "*" in DOCKERIGNORE.read_text().splitlines()
    for op, value in dockerfile_instructions():
        if op == "COPY" and "--from=" not in value:
            *sources, _target = value.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
                assert source.rstrip("/") in allowed, f"COPY {source}: excluded by .dockerignore"


def test_the_package_ships_its_models(tmp_path: Path) -> None:
    """What the image's `pip install .` gets: a wheel built from the Docker context holds the models."""
    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, context / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.tflite")
    for folder in ("services", "models"):
        shutil.copytree(REPO / folder, context / folder, ignore=ignore)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"),
         str(context)], capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("emostream-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "emostream/models/emonet.onnx" in names
    assert any(n.startswith("emostream/models/detector/") and n.endswith(".onnx") for n in names)
    assert "emostream/commands/health.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "emostream = emostream.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


# ---- deploy/k8s -----------------------------------------------------------------------------------------------


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def base_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S_BASE / "kustomization.yaml").read_text())
    return [doc for resource in kustomization["resources"]
            for doc in yaml.safe_load_all((K8S_BASE / resource).read_text()) if doc]  # fmt: skip


def test_every_k8s_yaml_parses_and_kustomizations_list_existing_files() -> None:
    for path in K8S.rglob("*.yaml"):
        assert list(yaml.safe_load_all(path.read_text())), f"{path} is empty"
    assert kustomizations()
    for path in kustomizations():
        kustomization = yaml.safe_load(path.read_text())
        for entry in kustomization.get("resources", []) + kustomization.get("components", []):
            assert (path.parent / entry).exists(), f"{path}: {entry} does not exist"
    listed = set(yaml.safe_load((K8S_BASE / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S_BASE.glob("*.yaml")} - {"kustomization.yaml"}, "a base file is not listed"


@pytest.mark.parametrize("path", kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_kubectl_kustomize_builds(path: Path) -> None:
    result = run_tool([require("kubectl"), "kustomize", str(path.parent)])
    assert result.returncode == 0, result.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc]
    if path.parent.parent.name != "components":
        assert {"Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"} <= set(kinds)


def test_k8s_deployments_have_probes_non_root_resources_and_real_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    documents = base_documents()
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert {"redis", *STAGES} <= set(deployments)
    config = next(d for d in documents if d["kind"] == "ConfigMap")["data"]
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert (
            deployment["spec"]["selector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        )
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] > 0, name
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            ports = {p["name"] for p in container.get("ports", [])} | {p["containerPort"] for p in container["ports"]}
            for probe in ("readinessProbe", "livenessProbe"):
                assert probe in container, f"{where}: no {probe}"
                handler = next(v for k, v in container[probe].items() if k in ("grpc", "httpGet", "tcpSocket", "exec"))
                assert "port" not in handler or handler["port"] in ports, f"{where}: {probe} port {handler['port']}"
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests), f"{where}: resource requests"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            if container["image"] == "emostream":
                stage = stage_of(container["args"])
                assert command_help(*container["args"]).returncode == 0, f"{where}: emostream {container['args']}"
                assert container["envFrom"] == [{"configMapRef": {"name": "emostream-config"}}]
                env = dict(config) | {e["name"]: CAMERA_URL for e in container.get("env", [])}
                mounted = {item["path"] for v in pod["volumes"] if "secret" in v for item in v["secret"]["items"]}
                check_settings(stage, env, mounted, monkeypatch, tmp_path)
        for volume in pod["volumes"]:
            if "secret" in volume:
                assert {i["key"] for i in volume["secret"]["items"]} <= SECRET_NAMES


def test_k8s_services_select_deployments_and_the_hpa_scales_the_classifier() -> None:
    documents = base_documents()
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in documents if d["kind"] == "Deployment"]
    for service in (d for d in documents if d["kind"] == "Service"):
        assert any(service["spec"]["selector"].items() <= labels.items() for labels in pod_labels), service
    (hpa,) = [d for d in documents if d["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "classifier"}
    assert hpa["spec"]["minReplicas"] >= 1 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


# ---- Prometheus config, alert rules and the dashboard's PromQL -------------------------------------------------


def test_promtool_checks_the_config_and_the_rules() -> None:
    promtool = require("promtool")
    for argv in (["check", "config", str(PROMETHEUS_CONFIG)], ["check", "rules", str(ALERT_RULES)]):
        result = run_tool([promtool, *argv])
        assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_as_their_unit_tests_expect() -> None:
    """Synthetic series in alerts_test.yml: each alert fires when it should, with its labels and summary."""
    result = run_tool([require("promtool"), "test", "rules", str(ALERT_TESTS)])
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", ALERT_TESTS.read_text()))
    assert REQUIRED_ALERTS <= tested, f"no unit test for {REQUIRED_ALERTS - tested}"


def test_alert_rules_cover_the_pipeline_and_name_real_metrics() -> None:
    rules = alert_rules()
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in rules}
    known = exported_metrics()
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert without_threshold(rule["expr"]) != rule["expr"].strip(), f"{rule['alert']}: no final threshold"
        for name in METRIC_NAME.findall(rule["expr"]):
            assert name in known, f"{rule['alert']}: {name} is not exported by any service"


def test_dashboard_structure() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    panels = list(iter_panels(board["panels"]))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    camera = variables["camera"]
    assert camera["type"] == "query" and camera["multi"] and camera["includeAll"]
    assert "emostream_" in camera["query"]["query"]
    for panel in panels:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], f"{panel['title']}: no query"
            assert all(t["expr"].strip() for t in panel["targets"])


def test_dashboard_queries_name_real_metrics_and_filter_by_camera() -> None:
    known = exported_metrics()
    used: set[str] = set()
    for query_id, expr in dashboard_queries():
        for name in METRIC_NAME.findall(expr):
            assert name in known, f"{query_id}: {name} is not exported by any service"
            used.add(name)
            if "camera" in known[name]:
                assert re.search(rf'{name}\{{[^}}]*camera=~"\$camera"', expr), f"{query_id}: {name} without $camera"
    wanted = {
        "emostream_emotion_frames_total", "emostream_active_tracks", "emostream_frames_captured_total",
        "emostream_detector_frames_total", "emostream_frames_dropped_total",
        "emostream_detector_frames_skipped_total", "emostream_frames_skipped_total",
        "emostream_pipeline_latency_seconds_bucket",
        "emostream_classifier_batch_size_sum", "emostream_classifier_queue_delay_seconds_bucket",
        "emostream_stream_lag", "emostream_dead_letters_total",
    }  # fmt: skip
    assert wanted <= used, f"panels missing for {wanted - used}"
    latency = [expr for _, expr in dashboard_queries() if "emostream_pipeline_latency_seconds_bucket" in expr]
    assert any("0.5," in e for e in latency) and any("0.99," in e for e in latency), "latency p50 and p99"


def test_every_dashboard_query_and_alert_expression_parses(tmp_path: Path) -> None:
    """promtool parses each query (template variables substituted) as a recording rule."""
    promtool = require("promtool")
    rules = [{"record": f"dashboard:query_{i}", "expr": substitute(expr, camera="cam0")}
             for i, (_, expr) in enumerate(dashboard_queries())]  # fmt: skip
    rules += [{"record": f"alert:value_{i}", "expr": without_threshold(rule["expr"])}
              for i, rule in enumerate(alert_rules())]  # fmt: skip
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_tool([promtool, "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
