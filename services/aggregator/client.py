"""A small client of ``TimelineService`` (``emostream serve aggregator``).

Unary calls that fail with UNAVAILABLE are retried with backoff (``classifier.client.call_with_retry``); other
errors raise :class:`TimelineRpcError` at once.

Example::

    with TimelineClient("127.0.0.1:50053") as client:
        for camera in client.cameras():
            print(camera.name, camera.frames)
        timeline = client.timeline("door", include_frames=True)
        events = client.watch(["door"])    # events.cancel() ends it, from a thread or a signal handler
        for event in events:                # blocks between events
            print(event.type, event.track_id)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf.message import Message

from emostream.classifier.client import CHANNEL_OPTIONS, ClassifierRpcError, RetryPolicy, call_with_retry
from emostream.core.rpc import bearer_metadata, open_channel
from emostream.protos.v1 import stream_pb2, timeline_pb2, timeline_pb2_grpc

TimelineRpcError = ClassifierRpcError  # same shape: target, method, code, details


class TimelineClient:
    """Calls a TimelineService at ``target`` (HOST:PORT); ``timeout`` seconds per unary call."""

    def __init__(
        self,
        target: str,
        timeout: float = 10.0,
        token: str | None = None,
        tls: bool = False,
        tls_ca: Path | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.target, self.timeout = target, timeout
        self._metadata = bearer_metadata(token)
        self._channel = open_channel(target, tls_ca=tls_ca, tls=tls, options=CHANNEL_OPTIONS)
        self._stub = timeline_pb2_grpc.TimelineServiceStub(self._channel)
        self._retry = retry or RetryPolicy()

    def __enter__(self) -> TimelineClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _unary(self, method: str, request: Message) -> Any:
        call = getattr(self._stub, method)
        return call_with_retry(
            self.target, method, lambda: call(request, timeout=self.timeout, metadata=self._metadata), self._retry
        )

    def cameras(self) -> list[timeline_pb2.Camera]:
        request = timeline_pb2.ListCamerasRequest()
        response = self._unary("ListCameras", request)
        return list(response.cameras)

    def camera(self, name: str) -> timeline_pb2.Camera | None:
        return next((c for c in self.cameras() if c.name == name), None)

    def tracks(self, camera: str, active_only: bool = False, page_size: int = 0) -> Iterator[timeline_pb2.TrackSummary]:
        """Every track of ``camera``, page after page."""
        token = ""
        while True:
            request = timeline_pb2.ListTracksRequest(
                camera=camera, active_only=active_only, page_size=page_size, page_token=token
            )
            response = self._unary("ListTracks", request)
            yield from response.tracks
            token = response.next_page_token
            if not token:
                return

    def timeline(
        self,
        camera: str,
        track_id: int | None = None,
        include_frames: bool = False,
        start_pts: float | None = None,
        end_pts: float | None = None,
    ) -> timeline_pb2.GetTimelineResponse:
        request = timeline_pb2.GetTimelineRequest(camera=camera, include_frames=include_frames)
        if track_id is not None:
            request.track_id = track_id
        if start_pts is not None:
            request.start_pts = start_pts
        if end_pts is not None:
            request.end_pts = end_pts
        return self._unary("GetTimeline", request)

    def watch(
        self, cameras: Sequence[str] = (), after_id: str = "", types: Sequence[int] = (), timeout: float | None = None
    ) -> EventStream:
        """Events as they happen (blocks between them); ``timeout`` bounds the whole stream."""
        request = timeline_pb2.WatchEventsRequest(cameras=list(cameras), after_id=after_id, types=list(types))
        return EventStream(self._stub.WatchEvents(request, timeout=timeout, metadata=self._metadata), self.target)


class EventStream:
    """The events of one ``WatchEvents`` call, as they come. ``cancel()`` ends the iteration cleanly from another
    thread or from a signal handler, without raising into gRPC's own locking as a KeyboardInterrupt would."""

    def __init__(self, call: Any, target: str) -> None:
        self._call, self._target = call, target
        self._events = self._read()

    def _read(self) -> Iterator[stream_pb2.Event]:
        try:
            yield from self._call
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.CANCELLED:
                return
            raise TimelineRpcError(self._target, "WatchEvents", error.code(), error.details() or "") from error
        finally:
            self._call.cancel()

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> stream_pb2.Event:
        return next(self._events)

    def cancel(self) -> None:
        self._call.cancel()
