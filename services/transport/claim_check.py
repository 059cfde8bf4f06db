"""Claim check for big frames: the image goes into its own key with a TTL and the stream entry carries only
the key, so that streams stay small and an image nobody fetched expires by itself. The detector deletes
the key when it acknowledges the frame.
"""

from __future__ import annotations

import secrets
from typing import Any

from emostream.protos.v1 import stream_pb2
from emostream.transport.keys import image_key

DEFAULT_TTL_S = 600


def new_nonce() -> str:
    """One per publishing run, so that a camera name reused by another run never reads a stale image."""
    return secrets.token_hex(4)


def claim(message: stream_pb2.Frame, nonce: str) -> tuple[str, bytes]:
    """Move ``message.image`` out of the message; returns the key it is to be stored under, and the bytes."""
    key = image_key(message.camera, message.seq, nonce)
    data = message.image
    message.image_key = key
    message.image = b""
    return key, data


def store(pipe: Any, key: str, data: bytes, ttl_s: int = DEFAULT_TTL_S) -> None:
    """Queue the SET of a claimed image on ``pipe`` (in the same transaction as the entry's XADD)."""
    pipe.set(key, data, ex=ttl_s)


def fetch(client: Any, message: stream_pb2.Frame) -> bytes | None:
    """The message's image bytes: inline, or fetched from its key (None: the key is gone)."""
    if not message.image_key:
        return message.image
    data = client.get(message.image_key)
    return None if data is None else bytes(data)
