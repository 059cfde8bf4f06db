"""Connections: the password from a file or the environment, never the URL we log; backoff that grows."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from emostream.core.rpc import CredentialsError
from emostream.transport.connection import PASSWORD_ENV, Backoff, connect, resolve_password, wait_for_redis


def test_password_from_file_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "redis_password"
    secret.write_text("s3cret\n")
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert resolve_password(secret) == "s3cret"
    assert resolve_password(None) == "from-env"
    monkeypatch.delenv(PASSWORD_ENV)
    assert resolve_password(None) is None


def test_an_empty_password_file_is_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "empty"
    secret.write_text("\n")
    with pytest.raises(CredentialsError):
        resolve_password(secret)


def test_connect_passes_password_and_tls(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("pw1")
    client = connect("rediss://127.0.0.1:6390/2", secret, name="t")
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["password"] == "pw1" and kwargs["db"] == 2 and kwargs["client_name"] == "t"
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"


def test_no_redis_is_not_an_error_until_used() -> None:
    client = connect("redis://127.0.0.1:1/0", socket_timeout=0.5)
    assert wait_for_redis(client, timeout=0.3) is False


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(initial=0.1, maximum=0.4)
    steps = [backoff.next() for _ in range(5)]
    assert 0.05 <= steps[0] <= 0.1 and all(0.2 <= s <= 0.4 for s in steps[3:])
    backoff.reset()
    assert backoff.next() <= 0.1
    stop = threading.Event()
    stop.set()
    assert backoff.wait(stop) is True
