"""Backpressure policies: DROP caps the stream and counts what falls off unread; WAIT holds the writer."""

from __future__ import annotations

import threading

import fakeredis

from emostream.transport.backpressure import Backpressure, BackpressurePolicy, StreamWriter, group_backlog, group_state

STREAM, GROUP = "emostream:frames:{cam}", "detector"


def test_the_writer_creates_the_group_from_the_first_entry(redis_client: fakeredis.FakeRedis) -> None:
    writer = StreamWriter(redis_client, STREAM, GROUP, Backpressure.live(maxlen=10))
    writer.add({"pb": b"1"})
    writer.add({"pb": b"2"})
    assert group_state(redis_client, STREAM, GROUP).lag == 2  # type: ignore[union-attr]
    entries = redis_client.xreadgroup(GROUP, "c1", {STREAM: ">"}, count=10)
    assert [fields[b"pb"] for _, fields in entries[0][1]] == [b"1", b"2"]


def test_drop_counts_entries_trimmed_unread(redis_client: fakeredis.FakeRedis) -> None:
    writer = StreamWriter(redis_client, STREAM, GROUP, Backpressure.live(maxlen=10))
    trimmed = sum(writer.add({"pb": b"x"}).trimmed_unread for _ in range(25))
    assert trimmed == 15
    assert redis_client.xlen(STREAM) <= 25


def test_drop_counts_nothing_while_the_reader_keeps_up(redis_client: fakeredis.FakeRedis) -> None:
    writer = StreamWriter(redis_client, STREAM, GROUP, Backpressure.live(maxlen=10))
    trimmed = 0
    for _ in range(30):
        trimmed += writer.add({"pb": b"x"}).trimmed_unread
        for entry_id, _ in redis_client.xreadgroup(GROUP, "c1", {STREAM: ">"}, count=1)[0][1]:
            redis_client.xack(STREAM, GROUP, entry_id)
    assert trimmed == 0


def test_wait_blocks_at_the_high_water_mark_until_the_reader_acks(redis_client: fakeredis.FakeRedis) -> None:
    writer = StreamWriter(redis_client, STREAM, GROUP, Backpressure.replay(high_water=3))
    assert writer.backpressure.policy == BackpressurePolicy.WAIT
    for index in range(3):
        writer.add({"pb": str(index).encode()})
    stop = threading.Event()
    added = threading.Event()

    def write_fourth() -> None:
        writer.add({"pb": b"3"}, stop)
        added.set()

    thread = threading.Thread(target=write_fourth)
    thread.start()
    assert not added.wait(0.3), "the writer should wait: the backlog is at the high-water mark"
    entry_id, _ = redis_client.xreadgroup(GROUP, "c1", {STREAM: ">"}, count=1)[0][1][0]
    assert not added.wait(0.2), "read but pending still counts as backlog"
    redis_client.xack(STREAM, GROUP, entry_id)
    assert added.wait(5), "an acknowledged entry makes room"
    thread.join(5)
    assert redis_client.xlen(STREAM) == 4  # nothing dropped


def test_wait_gives_up_when_stopped(redis_client: fakeredis.FakeRedis) -> None:
    writer = StreamWriter(redis_client, STREAM, GROUP, Backpressure.replay(high_water=1))
    writer.add({"pb": b"0"})
    stop = threading.Event()
    stop.set()
    assert writer.add({"pb": b"1"}, stop).entry_id is None
    assert redis_client.xlen(STREAM) == 1


def test_backlog_of_a_missing_group_is_none(redis_client: fakeredis.FakeRedis) -> None:
    assert group_backlog(redis_client, STREAM, GROUP) is None
    redis_client.xadd(STREAM, {"pb": b"x"})
    assert group_backlog(redis_client, STREAM, GROUP) is None


def test_claim_checked_images_go_in_the_same_transaction(redis_client: fakeredis.FakeRedis) -> None:
    writer = StreamWriter(redis_client, STREAM, GROUP, Backpressure.replay())
    writer.add({"pb": b"x"}, before=lambda pipe: pipe.set("blob", b"pixels", ex=60))
    assert redis_client.get("blob") == b"pixels" and 0 < redis_client.ttl("blob") <= 60
