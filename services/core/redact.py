"""Camera credentials never reach a log line or a metric label."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_SECRET_QUERY = re.compile(r"(?i)([?&](?:password|passwd|pwd|token|key|secret|auth)=)[^&\s]*")


def redact_url(url: str) -> str:
    """``rtsp://user:pass@cam/x?token=1`` -> ``rtsp://***@cam/x?token=***``."""
    redacted = _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", url)
    return _SECRET_QUERY.sub(r"\1***", redacted)
