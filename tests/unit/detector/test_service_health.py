"""The detector's settings and its HTTP health + metrics endpoint (shared with capture)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from emostream.components import PipelineSettings
from emostream.core.health import Health, serve_http
from emostream.detector.metrics import DetectorMetrics
from emostream.detector.settings import DetectorSettings


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_healthz_is_503_until_every_check_passes_and_metrics_are_served() -> None:
    health = Health()
    metrics = DetectorMetrics(CollectorRegistry())
    metrics.dead_letters.labels("detector", "malformed").inc()
    server = serve_http(0, "127.0.0.1", metrics.registry, health)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert _get(f"{base}/healthz")[0] == 503  # nothing checked yet
        health.set("redis", True)
        health.set("classifier", False, "UNAVAILABLE")
        status, body = _get(f"{base}/healthz")
        assert status == 503 and json.loads(body)["checks"]["classifier"] == {"ok": False, "detail": "UNAVAILABLE"}
        health.set("classifier", True)
        status, body = _get(f"{base}/healthz")
        assert status == 200 and json.loads(body)["status"] == "SERVING"
        status, body = _get(f"{base}/metrics")
        assert status == 200
        assert b'emostream_dead_letters_total{reason="malformed",stage="detector"} 1.0' in body
        assert _get(f"{base}/nope")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_settings_read_the_environment_and_refuse_unknown_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOSTREAM_DETECTOR_CLASSIFIER_TARGET", "classifier:50051")
    monkeypatch.setenv("EMOSTREAM_DETECTOR_REPLICAS", "3")
    settings = DetectorSettings()
    assert (settings.classifier_target, settings.replicas) == ("classifier:50051", 3)
    with pytest.raises(ValueError, match="Extra inputs"):
        DetectorSettings(classifier="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not both"):
        DetectorSettings(classifier_token="a", classifier_token_file="/tmp/t")  # type: ignore[arg-type]


def test_the_stage_settings_default_to_the_embedded_pipelines() -> None:
    pipeline, embedded = DetectorSettings().pipeline(), PipelineSettings()
    assert (pipeline.detector, pipeline.thorough_every, pipeline.model) == (
        embedded.detector,
        embedded.thorough_every,
        embedded.model,
    )
