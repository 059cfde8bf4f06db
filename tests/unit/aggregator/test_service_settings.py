"""AggregatorSettings: env prefix, unknown keys refused, secrets from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emostream.aggregator.settings import AggregatorSettings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOSTREAM_AGGREGATOR_PORT", "0")
    monkeypatch.setenv("EMOSTREAM_AGGREGATOR_RETENTION_SECONDS", "60")
    settings = AggregatorSettings()
    assert (settings.redis_url, settings.host, settings.port, settings.metrics_port) == (
        "redis://127.0.0.1:6379/0", "127.0.0.1", 0, 9104,
    )  # fmt: skip
    assert settings.retention_seconds == 60 and settings.consumer


@pytest.mark.parametrize(
    "values",
    [
        {"unknown": 1},
        {"redis_url": "http://x"},
        {"tls_cert": "cert.pem"},
        {"token": "a", "token_file": "t"},
        {"page_size": 5000, "max_page_size": 100},
    ],
)
def test_bad_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AggregatorSettings(**values)


def test_secrets_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    (tmp_path / "redis").write_text("pw\n")
    settings = AggregatorSettings(token_file=tmp_path / "token", redis_password_file=tmp_path / "redis")
    assert settings.bearer_token() == "s3cret" and settings.redis_secret() == "pw"
