"""ClassifierSettings: environment prefix, unknown keys refused, TLS and token rules, secrets from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emostream.classifier.settings import ClassifierSettings


def test_environment_is_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOSTREAM_CLASSIFIER_MAX_BATCH", "4")
    monkeypatch.setenv("EMOSTREAM_CLASSIFIER_TOKEN", "from-env")
    settings = ClassifierSettings(max_delay_ms=0)
    assert settings.batcher_config().max_batch == 4 and settings.batcher_config().max_delay_ms == 0
    assert settings.bearer_token() == "from-env"
    assert "from-env" not in repr(settings)  # a secret is never printed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bogus": 1}, "Extra inputs are not permitted"),
        ({"tls_cert": Path("cert.pem")}, "both tls_cert and tls_key"),
        ({"token": "a", "token_file": Path("t")}, "not both"),
        ({"max_batch": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ClassifierSettings(**overrides)


def test_token_file_is_read_and_stripped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOSTREAM_CLASSIFIER_TOKEN", raising=False)
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    assert ClassifierSettings(token_file=token).bearer_token() == "s3cret"
    assert ClassifierSettings().bearer_token() is None
