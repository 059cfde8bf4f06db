"""The stack's plan and generated files: what each service gets, without starting any process."""

from __future__ import annotations

from pathlib import Path

import pytest

from emostream.stack import plan as plan_module
from emostream.stack.config import Ports, StackConfig
from emostream.stack.errors import StackError
from emostream.stack.layout import Layout
from emostream.stack.plan import plan
from emostream.stack.prometheus import prometheus_config
from emostream.stack.redis_server import write_redis_files

PORTS = Ports(redis=7000, classifier=7001, classifier_metrics=7002, capture_metrics=7003,
              detector_metrics=(7004, 7005), aggregator=7006, aggregator_metrics=7007, prometheus=7008)  # fmt: skip


@pytest.fixture(autouse=True)
def _no_external_executables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "redis_executable", lambda: "/usr/bin/redis-server")
    monkeypatch.setattr(plan_module, "prometheus_argv", lambda config, layout: None)


def test_services_in_start_order_with_their_ports_and_environment(tmp_path: Path) -> None:
    config = StackConfig(root=tmp_path, ports=PORTS, camera_url="rtsp://u:p@cam/x", camera="door")
    services = {s.name: s for s in plan(config, Layout(tmp_path))}
    assert list(services) == ["redis", "classifier", "detector-0", "detector-1", "aggregator", "capture"]
    assert services["redis"].argv == ["/usr/bin/redis-server", str(tmp_path / "redis.conf")]
    assert services["detector-1"].env["EMOSTREAM_DETECTOR_METRICS_PORT"] == "7005"
    assert services["detector-1"].env["EMOSTREAM_DETECTOR_CLASSIFIER_TARGET"] == "127.0.0.1:7001"
    assert services["aggregator"].env["EMOSTREAM_AGGREGATOR_REDIS_URL"] == "redis://127.0.0.1:7000/0"
    assert services["aggregator"].ports == {"port": 7006, "metrics_port": 7007}
    capture = services["capture"]
    assert capture.env["EMOSTREAM_CAPTURE_SOURCE"] == "rtsp://u:p@cam/x"  # by environment: never on a command line
    assert not any("rtsp://" in arg for service in services.values() for arg in service.argv)
    assert capture.env["EMOSTREAM_CAPTURE_REDIS_PASSWORD_FILE"] == str(tmp_path / "redis.password")


def test_capture_needs_a_camera_url_and_redis_an_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "capture" not in [s.name for s in plan(StackConfig(root=tmp_path, ports=PORTS), Layout(tmp_path))]
    monkeypatch.setattr(plan_module, "redis_executable", lambda: None)
    with pytest.raises(StackError, match="no redis-server"):
        plan(StackConfig(root=tmp_path, ports=PORTS), Layout(tmp_path))


def test_redis_files_keep_the_password_and_are_private(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    write_redis_files(layout, "127.0.0.1", 7000)
    password = layout.password_file.read_text().strip()
    write_redis_files(layout, "127.0.0.1", 7000)
    assert layout.password_file.read_text().strip() == password
    assert f"requirepass {password}" in layout.redis_conf.read_text().splitlines()
    assert layout.redis_conf.stat().st_mode & 0o077 == 0 and layout.password_file.stat().st_mode & 0o077 == 0


def test_prometheus_scrapes_every_metrics_port() -> None:
    text = prometheus_config(StackConfig(ports=PORTS, scrape_interval_s=2))
    assert "  scrape_interval: 2s" in text
    assert '      - targets: ["127.0.0.1:7004", "127.0.0.1:7005"]' in text
    assert text.count("job_name:") == 5
