"""Health of a service without a gRPC server (capture, detector): named checks, served over HTTP beside
``/metrics``. ``GET /healthz`` answers 200 when every check passes, else 503; the body says which failed.

    health = Health()
    health.set("redis", ok=False, detail="connection refused")
    server = serve_http(9102, "127.0.0.1", registry, health)   # /metrics and /healthz
    ...
    server.shutdown()
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""


class Health:
    """Thread-safe named checks; a service is healthy when all of them pass (and at least one was set)."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()

    def set(self, name: str, ok: bool, detail: str = "") -> None:
        with self._lock:
            self._checks[name] = Check(ok, detail)

    @property
    def checks(self) -> dict[str, Check]:
        with self._lock:
            return dict(self._checks)

    @property
    def healthy(self) -> bool:
        checks = self.checks
        return bool(checks) and all(check.ok for check in checks.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "SERVING" if self.healthy else "NOT_SERVING",
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in sorted(self.checks.items())},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    registry: CollectorRegistry
    health: Health


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(self.server.registry), CONTENT_TYPE_LATEST)
        elif path in ("/healthz", "/health"):
            health = self.server.health
            body = json.dumps(health.as_dict()).encode()
            self._send(200 if health.healthy else 503, body, "application/json")
        else:
            self._send(404, b"not found: try /metrics or /healthz\n", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # scrapes are not worth a log line each
        return


def serve_http(port: int, host: str, registry: CollectorRegistry, health: Health) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/healthz`` from a daemon thread; ``server.server_port`` is the bound port."""
    server = _Server((host, port), _Handler)
    server.registry = registry
    server.health = health
    threading.Thread(target=server.serve_forever, name="http-metrics", daemon=True).start()
    return server
