"""Regenerate the committed gRPC/protobuf stubs: ``protos/emostream/v1/*.proto`` -> ``services/protos/v1/``.

grpc_tools writes absolute imports (``from emostream.v1 import face_pb2``) that follow the .proto layout;
the stubs live in the ``emostream.protos.v1`` package, so those imports are rewritten. The descriptors keep
their ``emostream/v1/*.proto`` file names, which is what reflection and other languages see.

    python tools/gen_protos.py                 # regenerate in place (``make protos``)
    python tools/gen_protos.py --out DIR       # into another folder (the drift test does this)
    python tools/gen_protos.py --check         # exit 1 if the committed stubs differ from a fresh run
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO / "protos"
PROTO_PACKAGE = Path("emostream") / "v1"
DEFAULT_OUT = REPO / "services" / "protos" / "v1"
GENERATED = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")
_IMPORT = re.compile(r"^from emostream\.v1 import ", re.MULTILINE)


def _protoc(proto_files: list[Path], out: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *(str(path.relative_to(PROTO_ROOT)) for path in proto_files),
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed on {', '.join(p.name for p in proto_files)}")


def generate(out: Path) -> list[Path]:
    """Write the stubs into ``out`` (replacing the generated files there); return the files written."""
    proto_files = sorted((PROTO_ROOT / PROTO_PACKAGE).glob("*.proto"))
    if not proto_files:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PROTO_PACKAGE}")
    out.mkdir(parents=True, exist_ok=True)
    for pattern in GENERATED:
        for stale in out.glob(pattern):
            stale.unlink()
    written = []
    with tempfile.TemporaryDirectory(prefix="emostream-protos-") as tmp:
        _protoc(proto_files, Path(tmp))
        for pattern in GENERATED:
            for source in sorted((Path(tmp) / PROTO_PACKAGE).glob(pattern)):
                text = _IMPORT.sub("from emostream.protos.v1 import ", source.read_text())
                if source.name.endswith("_grpc.py") and "Stub:" not in text:
                    continue  # a .proto without services: its grpc module would be empty
                target = out / source.name
                target.write_text(text)
                written.append(target)
    return sorted(written)


def drift(committed: Path) -> list[str]:
    """Names of the generated files that differ between ``committed`` and a fresh run (empty: none)."""
    with tempfile.TemporaryDirectory(prefix="emostream-protos-check-") as tmp:
        fresh = {path.name: path.read_text() for path in generate(Path(tmp))}
    current = {path.name: path.read_text() for pattern in GENERATED for path in committed.glob(pattern)}
    return sorted(name for name in fresh.keys() | current.keys() if fresh.get(name) != current.get(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the stubs (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the stubs drifted")
    args = parser.parse_args(argv)
    if args.check:
        changed = drift(args.out)
        if changed:
            print(f"stale stubs in {args.out}: {', '.join(changed)}; run `make protos`", file=sys.stderr)
            return 1
        print(f"stubs in {args.out} are up to date")
        return 0
    for path in generate(args.out):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
