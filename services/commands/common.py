"""What the subcommands share: settings from arguments, logging, errors."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from emostream.components import PipelineSettings


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pipeline")
    group.add_argument("--model", type=Path, help="emotion model .onnx (default: the shipped one)")
    group.add_argument("--detector", choices=["cascade", "blazeface", "centerface"], help="face detector")
    group.add_argument("--thorough-every", type=int, help="small-face detection pass every N frames")
    group.add_argument("--threads", type=int, help="ONNX Runtime threads per model (0: all cores)")


def settings_from(args: argparse.Namespace) -> PipelineSettings:
    overrides = {
        name: getattr(args, name)
        for name in ("model", "detector", "thorough_every", "threads")
        if getattr(args, name, None) is not None
    }
    return PipelineSettings(**overrides)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )


def fail(message: str) -> int:
    """One line on stderr, exit code 2."""
    print(f"emostream: error: {message}", file=sys.stderr)
    return 2
