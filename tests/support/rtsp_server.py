"""A real RTSP server for tests: serves a video file's H.264 stream at rtsp://127.0.0.1:PORT/stream.

Run with the SYSTEM Python (Debian's python3-gst-1.0 and gir1.2-gst-rtsp-server-1.0 are installed for it, not
in the venv)::

    /usr/bin/python3 tests/support/rtsp_server.py --video clip.mp4 [--port 0]

It prints ``READY <port>`` on stdout once listening. The stream plays in real time from the start for each
new session; at the end of the file the session ends (a live client then reconnects). When
``RTSP_TEST_USER`` and ``RTSP_TEST_PASSWORD`` are set in the environment, clients must authenticate with
them (basic auth), as with a real camera. SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def build_server(video: str, port: int) -> GstRtspServer.RTSPServer:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    location = video.replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )'
    )
    factory.set_shared(False)
    user, password = os.environ.get("RTSP_TEST_USER"), os.environ.get("RTSP_TEST_PASSWORD")
    if user and password:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("camera", "media.factory.access", True)
        permissions.add_permission_for_role("camera", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory("/stream", factory)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", required=True, help="an MP4 file with an H.264 video track")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free one)")
    args = parser.parse_args()
    Gst.init(None)
    server = build_server(args.video, args.port)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
