"""The one emostream command: ``emostream replay|run|analyze|eval-model|serve|client ...``; ``--help`` on each."""

from __future__ import annotations

import argparse
import os
import sys

from emostream import __version__
from emostream.commands import analyze, client, eval_model, health, live, replay, serve, stack
from emostream.commands.common import setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emostream",
        description="Real-time facial-expression analytics for live cameras and recorded video.",
    )
    parser.add_argument("--version", action="version", version=f"emostream {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs on stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (replay, live, analyze, eval_model, serve, client, stack, health):
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # corrupt frames are counted, not printed by ffmpeg
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
