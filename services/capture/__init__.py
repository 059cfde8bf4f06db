"""Capture: read frames from video files, webcams and RTSP/HTTP cameras."""
