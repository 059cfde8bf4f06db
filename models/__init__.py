"""The shipped models (ONNX), installed as package data of ``emostream.models``."""

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent
