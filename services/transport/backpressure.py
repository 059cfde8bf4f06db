"""What a writer does when the stream's readers fall behind: a named policy, not an ``if`` in a loop.

- ``DROP`` (live sources): ``XADD MAXLEN ~`` caps the stream to a few seconds. A slow consumer group loses
  its oldest unread entries, never latency; each entry trimmed unread is counted as a drop.
- ``WAIT`` (replay): nothing is dropped. The writer waits while the group's backlog (entries not yet
  delivered plus entries delivered but not acknowledged) is over the high-water mark.

    writer = StreamWriter(client, frames_stream("door"), DETECTOR_GROUP, Backpressure.live(maxlen=100))
    outcome = writer.add(encode_entry(message), stop)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis

RETAIN_AFTER_READ = 10_000  # WAIT: entries kept once read (the backlog itself stays under high_water)


class BackpressurePolicy(StrEnum):
    DROP = "drop"
    WAIT = "wait"


@dataclass(frozen=True)
class Backpressure:
    policy: BackpressurePolicy
    maxlen: int = 100  # DROP: entries kept (approximately: Redis trims whole nodes)
    high_water: int = 32  # WAIT: backlog at which the writer waits
    poll_s: float = 0.02  # WAIT: how often the backlog is checked while waiting

    @classmethod
    def live(cls, maxlen: int = 100) -> Backpressure:
        return cls(BackpressurePolicy.DROP, maxlen=maxlen)

    @classmethod
    def replay(cls, high_water: int = 32) -> Backpressure:
        return cls(BackpressurePolicy.WAIT, high_water=high_water)


@dataclass(frozen=True)
class AddOutcome:
    entry_id: bytes | None  # None: the writer was stopped while waiting
    trimmed_unread: int = 0  # DROP: unread entries this XADD pushed out of the stream


def ensure_group(client: Any, stream: str, group: str) -> None:
    """Create ``group`` on ``stream`` from its first entry (and the stream itself), if it is not there yet."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


@dataclass(frozen=True)
class GroupState:
    lag: int  # entries not yet delivered to any consumer of the group
    pending: int  # delivered, not acknowledged

    @property
    def backlog(self) -> int:
        return self.lag + self.pending


def group_state(client: Any, stream: str, group: str) -> GroupState | None:
    """How far ``group`` is behind on ``stream``; None: no such stream or group."""
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:  # no such stream
        return None
    for info in groups:
        name = info.get("name")
        if (name.decode() if isinstance(name, bytes) else name) != group:
            continue
        lag = info.get("lag")
        if lag is None:  # Redis cannot tell after trimming or deletions: count what is after last-delivered-id
            last = info.get("last-delivered-id") or b"0-0"
            last = last.decode() if isinstance(last, bytes) else last
            lag = len(client.xrange(stream, min=f"({last}", max="+", count=RETAIN_AFTER_READ))
        return GroupState(int(lag), int(info.get("pending") or 0))
    return None


def group_backlog(client: Any, stream: str, group: str) -> int | None:
    """Entries of ``stream`` that ``group`` has not finished: undelivered + pending. None: no such group."""
    state = group_state(client, stream, group)
    return None if state is None else state.backlog


class StreamWriter:
    """Adds entries to one stream under a backpressure policy; creates the reading group if it is missing,
    so that entries written before the first reader starts are not skipped."""

    def __init__(self, client: Any, stream: str, group: str, backpressure: Backpressure) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.backpressure = backpressure
        self._group_ready = False

    def forget_group(self) -> None:
        """Check the group again before the next write (after Redis came back, perhaps empty)."""
        self._group_ready = False

    def _ensure_group(self) -> None:
        if not self._group_ready:
            ensure_group(self.client, self.stream, self.group)
            self._group_ready = True

    def wait_for_capacity(self, stop: threading.Event) -> bool:
        """WAIT: block until the backlog is under the high-water mark; False if ``stop`` was set first."""
        self._ensure_group()
        while True:
            backlog = group_backlog(self.client, self.stream, self.group)
            if backlog is None:  # the group vanished (Redis restarted empty): make it again
                self._group_ready = False
                self._ensure_group()
                continue
            if backlog < self.backpressure.high_water:
                return True
            if stop.wait(self.backpressure.poll_s):
                return False

    def _xadd(self, fields: dict[str, Any], maxlen: int, before: Callable[[Any], None] | None) -> bytes:
        if before is None:
            return self.client.xadd(self.stream, fields, maxlen=maxlen, approximate=True)
        with self.client.pipeline(transaction=True) as pipe:
            before(pipe)
            pipe.xadd(self.stream, fields, maxlen=maxlen, approximate=True)
            return pipe.execute()[-1]

    def add(
        self,
        fields: dict[str, Any],
        stop: threading.Event | None = None,
        before: Callable[[Any], None] | None = None,
    ) -> AddOutcome:
        """XADD ``fields`` under the policy; ``before(pipe)`` queues commands for the same transaction (the
        claim-checked image). Redis errors propagate: the caller decides to retry or drop."""
        stop = stop or threading.Event()
        policy = self.backpressure
        if policy.policy == BackpressurePolicy.WAIT:
            if not self.wait_for_capacity(stop):
                return AddOutcome(None)
            return AddOutcome(self._xadd(fields, RETAIN_AFTER_READ, before))
        self._ensure_group()
        state = group_state(self.client, self.stream, self.group)
        if state is None:
            self._group_ready = False
            self._ensure_group()
        lag = 0 if state is None else state.lag
        trimmed = 1 if lag >= policy.maxlen else 0  # the oldest unread entry falls off the capped stream
        return AddOutcome(self._xadd(fields, policy.maxlen, before), trimmed)
