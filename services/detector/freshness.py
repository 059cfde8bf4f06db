"""Live frames: newest frame wins. Which entries of a detector's batch are skipped, and when a live camera's
thorough pass runs.

A live source outrunning its detectors must cost frames, never latency. Of the live entries one replica holds
for a camera, only the newest is processed; each older one is skipped as ``stale``, and a live frame older than
``max_age_s`` (capture wall time, so the clocks of capture and detector hosts must agree) as ``max_age``.
Replay frames (``live`` false) and end-of-stream entries are never skipped.

The decision is local to one replica's batch. Consumers of a group never hold the same entry, so the stream's
newest entry is always the newest of some replica's batch: two replicas never both skip it.

    >>> frames = [Pending(str(i), {}, stream_pb2.Frame(seq=i, live=True, wall_time=10.0)) for i in range(3)]
    >>> plan = plan_batch(frames, now=10.05, max_age_s=1.0)
    >>> [(p.message.seq, reason.value) for p, reason in plan.skip], [p.message.seq for p in plan.process]
    ([(0, 'stale'), (1, 'stale')], [2])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from emostream.protos.v1 import stream_pb2


class SkipReason(StrEnum):
    """Why a live frame was skipped unprocessed (the ``reason`` label of the detector's skip counter)."""

    STALE = "stale"  # a newer live frame of the same camera was waiting
    MAX_AGE = "max_age"  # older than the live max age when its turn came


@dataclass(frozen=True)
class Pending:
    """A decoded frames-stream entry this consumer holds (delivered, not yet acknowledged)."""

    entry_id: str
    fields: dict[Any, Any]
    message: stream_pb2.Frame

    @property
    def skippable(self) -> bool:
        return self.message.live and not self.message.end_of_stream


@dataclass
class Plan:
    """What to do with a batch: ``skip`` (with reasons, oldest first) and ``process`` (in stream order)."""

    skip: list[tuple[Pending, SkipReason]] = field(default_factory=list)
    process: list[Pending] = field(default_factory=list)


def plan_batch(batch: Sequence[Pending], now: float, max_age_s: float) -> Plan:
    """Split one camera's batch (stream order): every live frame but the newest is stale; the newest is
    processed unless it is older than ``max_age_s`` (0: no age limit). Everything else is processed."""
    newest = max((index for index, item in enumerate(batch) if item.skippable), default=-1)
    plan = Plan()
    for index, item in enumerate(batch):
        if not item.skippable:
            plan.process.append(item)
        elif index < newest:
            plan.skip.append((item, SkipReason.STALE))
        elif too_old(item.message, now, max_age_s):
            plan.skip.append((item, SkipReason.MAX_AGE))
        else:
            plan.process.append(item)
    return plan


def too_old(message: stream_pb2.Frame, now: float, max_age_s: float) -> bool:
    """A live frame past its max age (never a replay frame; ``max_age_s`` 0: never)."""
    return message.live and max_age_s > 0 and now - message.wall_time > max_age_s


class LiveRhythm:
    """When a live camera's thorough pass runs, given that frames are skipped.

    Replay keeps ``seq % every == 0`` (the embedded pipeline's rhythm, for identical results). On a live camera
    the processed seqs have holes, so that rule could miss the thorough pass for long stretches; instead it
    runs on the first processed frame of each block of ``every`` seqs. While the detector is behind (it just
    skipped frames) the pass yields to the fast one, for at most one more block: under load the thorough period
    at most doubles, and the live path keeps its latency bounded. Without skips this is ``seq % every == 0``.
    """

    def __init__(self) -> None:
        self._last_block: dict[str, int] = {}  # camera -> seq // every of its last thorough pass

    def thorough(self, camera: str, seq: int, every: int, behind: bool) -> bool:
        block = seq // every
        last = self._last_block.get(camera)
        if last is not None and block < last - 1:  # seq went back: the source restarted without an end-of-stream
            last = None
        if last is not None and block <= last:
            return False
        if behind and last is not None and block < last + 2:
            return False
        self._last_block[camera] = block
        return True

    def forget(self, camera: str) -> None:
        """The camera's stream ended: its next frame is a first one again."""
        self._last_block.pop(camera, None)
