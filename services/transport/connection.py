"""Redis connections for every service: a URL (``redis://`` or ``rediss://`` for TLS), the password from a
file or the environment (never from the command line), and reconnection when Redis restarts.

redis-py reconnects a dropped socket on the next command by itself; :func:`connect` adds a few quick retries
with jittered exponential backoff for each command, and :class:`Backoff` paces the service loops that keep
trying for as long as Redis stays away.

    client = connect("redis://127.0.0.1:6379/0", password_file=Path("/run/secrets/redis_password"))
    client.xadd(frames_stream("door"), {PAYLOAD_FIELD: payload})
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from emostream.core.redact import redact_url
from emostream.core.rpc import read_secret_file

log = logging.getLogger(__name__)

PASSWORD_ENV = "EMOSTREAM_REDIS_PASSWORD"
DEFAULT_URL = "redis://127.0.0.1:6379/0"
# What "Redis is away" looks like to a caller: retry later, the data is not at fault.
REDIS_DOWN_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


def secrets_dir() -> str | None:
    """The secrets directory of every service's settings: ``$EMOSTREAM_SECRETS_DIR``, default ``/run/secrets``."""
    path = Path(os.environ.get("EMOSTREAM_SECRETS_DIR", "/run/secrets"))
    return str(path) if path.is_dir() else None


def resolve_password(password_file: Path | None = None, env: str = PASSWORD_ENV) -> str | None:
    """The Redis password from ``password_file`` if given, else from ``$EMOSTREAM_REDIS_PASSWORD``, else None."""
    if password_file is not None:
        return read_secret_file(password_file, "Redis password").decode().strip()
    return os.environ.get(env) or None


def connect(
    url: str = DEFAULT_URL,
    password_file: Path | None = None,
    *,
    password: str | None = None,
    name: str | None = None,
    socket_timeout: float = 10.0,
    retries: int = 3,
    tls_ca: Path | None = None,
    **kwargs: Any,
) -> redis.Redis:
    """A client for ``url`` (``redis://[user@]host:port/db`` or ``rediss://`` for TLS). Responses are bytes.

    The password is ``password`` (from a settings secret), or read from ``password_file``, or taken from
    ``$EMOSTREAM_REDIS_PASSWORD`` (one in the URL also works,
    for tests, but then it is in the environment of whoever built the URL). ``name`` is the CLIENT SETNAME
    label seen in ``CLIENT LIST``. Nothing is sent until the first command: a Redis that is down now is
    not an error here. ``socket_timeout`` must exceed the longest ``BLOCK`` a caller uses.
    """
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": min(socket_timeout, 5.0),
        "health_check_interval": 15,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries),
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        "client_name": name,
    }
    password = password or resolve_password(password_file)
    if password is not None:
        options["password"] = password
    if tls_ca is not None:
        options["ssl_ca_certs"] = str(tls_ca)
    options.update(kwargs)
    client = redis.Redis.from_url(url, **options)
    log.debug("event=redis_client url=%s name=%s", redact_url(url), name)
    return client


@dataclass
class Backoff:
    """Jittered exponential waits for loops that retry until something comes back (Redis, the classifier).

    >>> backoff = Backoff(initial=0.1, maximum=2.0)
    >>> 0.05 <= backoff.next() <= 0.1
    True
    """

    initial: float = 0.1
    maximum: float = 5.0
    multiplier: float = 2.0
    failures: int = field(default=0, init=False)

    def next(self) -> float:
        """Seconds to wait before the next try (50-100% of the exponential step, capped)."""
        step = min(self.maximum, self.initial * self.multiplier**self.failures)
        self.failures += 1
        return step * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0

    def wait(self, stop: threading.Event) -> bool:
        """Wait the next step; True if ``stop`` was set meanwhile."""
        return stop.wait(self.next())


def wait_for_redis(client: redis.Redis, timeout: float, stop: threading.Event | None = None) -> bool:
    """Ping until Redis answers (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    backoff = Backoff(initial=0.05, maximum=1.0)
    stop = stop or threading.Event()
    while True:
        try:
            return bool(client.ping())
        except REDIS_DOWN_ERRORS:
            if time.monotonic() >= deadline or backoff.wait(stop):
                return False
