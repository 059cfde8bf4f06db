"""Make ``examples/astronaut.mp4``, the bundled sample that ``make run`` replays.

Its only source is scikit-image's ``astronaut`` image: NASA's portrait of Eileen Collins, in the
public domain. The face drifts and zooms slowly, so tracking and alignment have work to do.

    pip install scikit-image && python tools/make_sample_video.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def frames(image: np.ndarray, count: int, size: tuple[int, int]) -> list[np.ndarray]:
    width, height = size
    out = []
    for index in range(count):
        t = index / max(1, count - 1)
        zoom = 0.9 + 0.35 * np.sin(np.pi * t)
        angle = 6.0 * np.sin(2 * np.pi * t)
        matrix = cv2.getRotationMatrix2D((256.0, 200.0), angle, zoom * 0.75)
        matrix[0, 2] += (width - 512) / 2 + 60 * np.sin(2 * np.pi * t)
        matrix[1, 2] += (height - 512) / 2 + 30 * np.cos(2 * np.pi * t)
        out.append(
            cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 40))
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("examples/astronaut.mp4"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fps", type=float, default=25.0)
    args = parser.parse_args()
    from skimage import data

    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    size = (480, 360)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter.fourcc(*"mp4v"), args.fps, size)
    for frame in frames(image, round(args.seconds * args.fps), size):
        writer.write(frame)
    writer.release()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
