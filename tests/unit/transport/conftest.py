"""Transport unit tests run against fakeredis: an in-memory Redis, no server."""

from __future__ import annotations

import fakeredis
import pytest


@pytest.fixture
def redis_client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()
