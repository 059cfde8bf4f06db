"""The stack's one error type."""

from __future__ import annotations


class StackError(RuntimeError):
    """A service of the stack did not start or become ready."""
