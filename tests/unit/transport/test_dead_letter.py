"""Dead letters record who gave up on which entry, why, and what it held."""

from __future__ import annotations

import fakeredis

from emostream.transport.dead_letter import MAX_KEPT_PAYLOAD, DeadLetter, DeadLetterReason, add_dead_letter
from emostream.transport.keys import DEAD_LETTER_STREAM


def test_a_dead_letter_keeps_stage_stream_id_reason_and_payload(redis_client: fakeredis.FakeRedis) -> None:
    letter = DeadLetter("detector", "emostream:frames:{cam}", "1-0", DeadLetterReason.MALFORMED, "not a Frame")
    add_dead_letter(redis_client, letter, {b"pb": b"\x00" * (MAX_KEPT_PAYLOAD + 10)})
    [(_, fields)] = redis_client.xrange(DEAD_LETTER_STREAM)
    assert fields[b"stage"] == b"detector" and fields[b"reason"] == b"malformed"
    assert fields[b"stream"] == b"emostream:frames:{cam}" and fields[b"id"] == b"1-0"
    assert fields[b"detail"] == b"not a Frame"
    assert len(fields[b"pb"]) == MAX_KEPT_PAYLOAD
