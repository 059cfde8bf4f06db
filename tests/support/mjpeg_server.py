"""An HTTP MJPEG camera for tests: ``multipart/x-mixed-replace`` JPEG frames of a video, in real time, looped.

server = MjpegServer(Path("clip.mp4")).start()     # a daemon thread on a free loopback port
server.url                                          # http://127.0.0.1:PORT/stream.mjpg
server.paused.set()                                 # a stalled camera: connected, sending nothing
server.stop()
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

BOUNDARY = "emostreamframe"


def jpeg_frames(video: Path, limit: int = 300) -> list[bytes]:
    capture = cv2.VideoCapture(str(video))
    frames: list[bytes] = []
    while len(frames) < limit:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    capture.release()
    return frames


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    frames: list[bytes]
    fps: float
    stopping: threading.Event
    paused: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path != "/stream.mjpg":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.end_headers()
        index, period = 0, 1.0 / self.server.fps
        try:
            while not self.server.stopping.is_set():
                if self.server.paused.is_set():
                    self.server.stopping.wait(0.05)
                    continue
                data = self.server.frames[index % len(self.server.frames)]
                self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n"
                                 .encode() + data + b"\r\n")  # fmt: skip
                index += 1
                time.sleep(period)  # the camera's frame rate
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, format: str, *args: object) -> None:
        return


class MjpegServer:
    def __init__(self, video: Path, fps: float = 15.0) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.frames = jpeg_frames(video)
        self._server.fps = fps
        self._server.stopping = threading.Event()
        self._server.paused = threading.Event()
        self.paused = self._server.paused

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/stream.mjpg"

    def start(self) -> MjpegServer:
        threading.Thread(target=self._server.serve_forever, name="mjpeg", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
