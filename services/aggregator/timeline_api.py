"""``TimelineService`` over the persisted state (``store.TimelineStore``): any aggregator replica answers for
every camera, whichever replica aggregates it.

Errors: a missing or malformed argument is INVALID_ARGUMENT, an unknown camera or track NOT_FOUND, each with
a message naming the argument. ``WatchEvents`` streams ``emostream:events:<camera>`` entries as they are
written; ``after_id`` (an ``Event.id``) resumes after that entry (with several cameras, after that point in
time on each of them: stream ids are times).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from redis.asyncio import Redis
from redis.exceptions import RedisError

from emostream.aggregator.store import TimelineStore, classes_of
from emostream.aggregator.wire import segments_from_frames
from emostream.core.errors import EmostreamError
from emostream.protos.v1 import stream_pb2, timeline_pb2, timeline_pb2_grpc
from emostream.transport.codec import PayloadError, decode_event
from emostream.transport.keys import events_stream

log = logging.getLogger(__name__)
T = TypeVar("T")
_ENTRY_ID = re.compile(r"^\d+(-\d+)?$")
WATCH_BLOCK_MS = 1000
WATCH_REFRESH_S = 2.0
WATCH_RETRY_S = 0.5  # while Redis is away  # with no camera named: how often new cameras are looked for


class InvalidArgument(EmostreamError):
    """INVALID_ARGUMENT: the request is malformed."""


class NotFound(EmostreamError):
    """NOT_FOUND: no such camera or track."""


_STATUS: dict[type[EmostreamError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
}


def _check_camera(camera: str) -> str:
    if not camera:
        raise InvalidArgument("camera is required")
    try:
        events_stream(camera)
    except ValueError as error:
        raise InvalidArgument(str(error)) from error
    return camera


def camera_message(name: str, state: dict[str, str]) -> timeline_pb2.Camera:
    return timeline_pb2.Camera(
        name=name,
        frames=int(state.get("frames", "0")),
        first_pts=float(state.get("first_pts", "0")),
        last_pts=float(state.get("last_pts", "0")),
        last_wall_time=float(state.get("last_wall_time", "0")),
        active_tracks=int(state.get("active_tracks", "0")),
        ended=state.get("ended") == "1",
    )


async def _answer(method: str, context: grpc.aio.ServicerContext, handle: Callable[[], Awaitable[T]]) -> T:
    try:
        return await handle()
    except (InvalidArgument, NotFound) as error:
        log.info("event=refused method=%s code=%s reason=%r", method, _STATUS[type(error)].name, str(error))
        await context.abort(_STATUS[type(error)], str(error))
        raise
    except RedisError as error:
        log.warning("event=redis_unavailable method=%s error=%r", method, str(error))
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"Redis is unavailable ({error}); retry shortly")
        raise
    except Exception as error:
        log.exception("event=internal_error method=%s", method)
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {error.__class__.__name__}")
        raise


def _overlaps(first: float, last: float, start: float | None, end: float | None) -> bool:
    return (start is None or last >= start) and (end is None or first <= end)


class TimelineServicer(timeline_pb2_grpc.TimelineServiceServicer):
    def __init__(self, redis: Redis, store: TimelineStore, page_size: int, max_page_size: int) -> None:
        self.redis, self.store, self.page_size, self.max_page_size = redis, store, page_size, max_page_size

    async def _state(self, camera: str) -> dict[str, str]:
        state = await self.store.state(_check_camera(camera))
        if state is None:
            raise NotFound(f"camera {camera!r} is unknown (never aggregated, or past its retention)")
        return state

    async def ListCameras(
        self, request: timeline_pb2.ListCamerasRequest, context: grpc.aio.ServicerContext
    ) -> timeline_pb2.ListCamerasResponse:
        async def handle() -> timeline_pb2.ListCamerasResponse:
            cameras = []
            for name in await self.store.cameras():
                state = await self.store.state(name)
                if state is not None:
                    cameras.append(camera_message(name, state))
            return timeline_pb2.ListCamerasResponse(cameras=cameras)

        return await _answer("ListCameras", context, handle)

    async def ListTracks(
        self, request: timeline_pb2.ListTracksRequest, context: grpc.aio.ServicerContext
    ) -> timeline_pb2.ListTracksResponse:
        async def handle() -> timeline_pb2.ListTracksResponse:
            await self._state(request.camera)
            after = -1
            if request.page_token:
                if not request.page_token.isdigit():
                    raise InvalidArgument(f"page_token {request.page_token!r} is not one ListTracks returned")
                after = int(request.page_token)
            size = min(request.page_size or self.page_size, self.max_page_size)
            tracks = [t.track for t in await self.store.tracks(request.camera) if t.track.track_id > after]
            if request.active_only:
                tracks = [t for t in tracks if t.active]
            page = tracks[:size]
            token = str(page[-1].track_id) if len(tracks) > size else ""
            return timeline_pb2.ListTracksResponse(tracks=page, next_page_token=token)

        return await _answer("ListTracks", context, handle)

    async def GetTimeline(
        self, request: timeline_pb2.GetTimelineRequest, context: grpc.aio.ServicerContext
    ) -> timeline_pb2.GetTimelineResponse:
        async def handle() -> timeline_pb2.GetTimelineResponse:
            state = await self._state(request.camera)
            start = request.start_pts if request.HasField("start_pts") else None
            end = request.end_pts if request.HasField("end_pts") else None
            if start is not None and end is not None and start > end:
                raise InvalidArgument(f"start_pts {start} is after end_pts {end}")
            if request.HasField("track_id"):
                one = await self.store.track(request.camera, request.track_id)
                if one is None:
                    raise NotFound(f"camera {request.camera!r} has no track {request.track_id}")
                tracks = [one]
            else:
                tracks = await self.store.tracks(request.camera)
            tracks = [t for t in tracks if _overlaps(t.track.first_pts, t.track.last_pts, start, end)]
            wanted = [t.track.track_id for t in tracks if request.include_frames or t.track.active]
            frames = await self.store.frames(request.camera, wanted)
            for track in tracks:
                track_frames = frames.get(track.track.track_id)
                if track.track.active and track_frames is not None:
                    del track.segments[:]
                    track.segments.extend(segments_from_frames(track_frames))
                kept = [s for s in track.segments if _overlaps(s.start_pts, s.end_pts, start, end)]
                del track.segments[:]
                track.segments.extend(kept)
                if request.include_frames and track_frames is not None:
                    track.frames.extend(f for f in track_frames if _overlaps(f.pts, f.pts, start, end))
            return timeline_pb2.GetTimelineResponse(camera=request.camera, classes=classes_of(state), tracks=tracks)

        return await _answer("GetTimeline", context, handle)

    async def WatchEvents(
        self, request: timeline_pb2.WatchEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[stream_pb2.Event]:
        try:
            cameras = [_check_camera(c) for c in request.cameras]
            if request.after_id and not _ENTRY_ID.match(request.after_id):
                raise InvalidArgument(f"after_id {request.after_id!r} is not an Event.id (like '1700000000000-0')")
        except InvalidArgument as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            return
        types = set(request.types)
        async for event in self._events(cameras, request.after_id):
            if not types or event.type in types:
                yield event

    async def _events(self, named: list[str], after_id: str) -> AsyncIterator[stream_pb2.Event]:
        loop = asyncio.get_running_loop()
        positions: dict[str, str] = {}
        refresh_at = 0.0
        first = True
        while True:
            try:
                if first or (not named and loop.time() >= refresh_at):
                    for camera in named or await self.store.cameras():
                        key = events_stream(camera)
                        if key not in positions:  # cameras that appear later: all their events are new
                            positions[key] = after_id or (await self._last_id(key) if first else "0-0")
                    refresh_at, first = loop.time() + WATCH_REFRESH_S, False
                if not positions:
                    await asyncio.sleep(WATCH_BLOCK_MS / 1000)  # no camera yet: wait for one to appear
                    continue
                reply = await self.redis.xread(dict(positions), count=100, block=WATCH_BLOCK_MS)  # type: ignore[arg-type]
            except RedisError as error:  # the stream stays open; it goes on where it was once Redis is back
                log.warning("event=redis_unavailable method=WatchEvents error=%r", str(error))
                await asyncio.sleep(WATCH_RETRY_S)
                continue
            for key, entries in _stream_entries(reply):
                for entry_id, fields in entries:
                    positions[key] = entry_id
                    try:
                        event = decode_event(fields)
                    except PayloadError as error:
                        log.warning("event=bad_event stream=%s id=%s error=%r", key, entry_id, str(error))
                        continue
                    event.id = entry_id
                    yield event

    async def _last_id(self, key: str) -> str:
        last = await self.redis.xrevrange(key, count=1)
        return _text(last[0][0]) if last else "0-0"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stream_entries(reply: Any) -> list[tuple[str, list[tuple[str, dict[Any, Any]]]]]:
    """``XREAD``'s reply as ``[(stream, [(id, fields), ...]), ...]``."""
    return [(_text(key), [(_text(i), dict(f or {})) for i, f in entries]) for key, entries in reply or []]
