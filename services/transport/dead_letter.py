"""Poison entries: whatever a stage cannot read goes to ``emostream:dead`` with its reason, and is acknowledged
in the same transaction, so that it is counted and logged once and never retried forever.

    with client.pipeline(transaction=True) as pipe:
        add_dead_letter(pipe, DeadLetter("detector", stream, entry_id, DeadLetterReason.MALFORMED, "..."), fields)
        pipe.xack(stream, DETECTOR_GROUP, entry_id)
        pipe.execute()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from emostream.transport.keys import DEAD_LETTER_STREAM, PAYLOAD_FIELD

DEAD_LETTER_MAXLEN = 10_000  # the newest ones are kept for inspection
MAX_KEPT_PAYLOAD = 64 * 1024  # a dead letter keeps at most this much of the original payload


class DeadLetterReason(StrEnum):
    """Why an entry was given up on (the ``reason`` label of ``emostream_dead_letters_total``)."""

    MISSING_PAYLOAD = "missing_payload"  # no protobuf field in the entry
    MALFORMED = "malformed"  # the bytes are not the message they should be
    SCHEMA_VERSION = "schema_version"  # written by a newer (or older) emostream
    BAD_IMAGE = "bad_image"  # the frame's image does not decode, or is over the pixel limit
    IMAGE_EXPIRED = "image_expired"  # the claim-checked image was gone (its TTL passed)
    REJECTED = "rejected"  # a downstream service refused the data for good (e.g. INVALID_ARGUMENT)
    PROCESSING_FAILED = "processing_failed"  # the stage raised on this entry (a bug, or data it cannot handle)


@dataclass(frozen=True)
class DeadLetter:
    stage: str  # who gave up: "detector", "aggregator"
    stream: str  # where the entry was
    entry_id: str
    reason: DeadLetterReason
    detail: str


def dead_letter_fields(letter: DeadLetter, original: Mapping[Any, Any] | None = None) -> dict[str, str | bytes]:
    """The fields of the dead-letter entry: who, where, why, and (truncated) the original payload."""
    fields: dict[str, str | bytes] = {
        "stage": letter.stage,
        "stream": letter.stream,
        "id": letter.entry_id,
        "reason": letter.reason.value,
        "detail": letter.detail[:1000],
    }
    if original:
        payload = original.get(PAYLOAD_FIELD.encode(), original.get(PAYLOAD_FIELD))
        if isinstance(payload, bytes | str):
            data = payload.encode() if isinstance(payload, str) else payload
            fields[PAYLOAD_FIELD] = data[:MAX_KEPT_PAYLOAD]
    return fields


def add_dead_letter(pipe: Any, letter: DeadLetter, original: Mapping[Any, Any] | None = None) -> None:
    """Queue the XADD of ``letter`` on ``pipe`` (a Redis pipeline or client)."""
    pipe.xadd(DEAD_LETTER_STREAM, dead_letter_fields(letter, original), maxlen=DEAD_LETTER_MAXLEN, approximate=True)
