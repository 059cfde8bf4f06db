"""Specific error types. Each one maps once to a CLI message, a gRPC status or a dead-letter reason."""

from __future__ import annotations


class EmostreamError(Exception):
    """Base of every error emostream raises on purpose; its message names the input and the problem."""


class SourceError(EmostreamError):
    """A video, camera or URL could not be opened or read."""


class ImageDecodeError(EmostreamError):
    """An image could not be decoded, or is larger than the decode limit."""
