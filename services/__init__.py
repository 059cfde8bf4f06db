"""emostream: real-time facial-expression analytics for live cameras and recorded video."""

__version__ = "0.1.0"
