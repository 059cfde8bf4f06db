"""``emostream client classify|analyze|timeline|watch``: call a running stack.

``classify`` and ``analyze`` call the classifier service (``emostream serve classifier``); ``timeline`` and
``watch`` the aggregator's TimelineService (``emostream serve aggregator``). The bearer token, if the server
wants one, comes from ``--token-file``, ``EMOSTREAM_CLASSIFIER_TOKEN`` or ``EMOSTREAM_AGGREGATOR_TOKEN``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from emostream.commands.common import fail
from emostream.core.errors import EmostreamError
from emostream.core.protoconv import quality_from_proto
from emostream.protos.v1 import face_pb2


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("client", help="call a running stack (classifier, aggregator)", description=__doc__)
    calls = parser.add_subparsers(dest="call", required=True, metavar="CALL")

    classify = calls.add_parser("classify", help="classify 48x48 crops from an .npz (Classify)")
    _connection(classify, timeout=5.0)
    classify.add_argument("--npz", type=Path, required=True, help=".npz holding (N, 48, 48) uint8 crops")
    classify.add_argument("--images", default="x_val", help="key of the crops (default: x_val)")
    classify.add_argument("--labels", default="y_val", help="key of integer labels, for an accuracy (if present)")
    classify.add_argument("--limit", type=int, default=256, help="first N crops only (0: all; default 256)")
    classify.add_argument("--batch", type=int, default=32, help="crops per request (default 32)")
    classify.add_argument("--json", action="store_true", help="one JSON document on stdout")
    classify.set_defaults(handler=run_classify)

    analyze = calls.add_parser("analyze", help="faces and emotions in photos (FaceAnalyzer.Analyze)")
    _connection(analyze, timeout=30.0)
    analyze.add_argument("photos", type=Path, nargs="+", help="image files")
    analyze.add_argument("--json", action="store_true", help="one JSON object per photo on stdout")
    analyze.set_defaults(handler=run_analyze)

    from emostream.commands.client_timeline import add_timeline_parsers

    add_timeline_parsers(calls, _connection)


def _connection(parser: argparse.ArgumentParser, timeout: float, target: str | None = None) -> None:
    group = parser.add_argument_group("connection")
    if target is None:
        group.add_argument("--target", required=True, help="HOST:PORT of the classifier service")
    else:
        group.add_argument("--target", default=target, help=f"HOST:PORT of the service (default {target})")
    group.add_argument("--timeout", type=float, default=timeout, help=f"seconds per call (default {timeout:g})")
    group.add_argument("--token-file", type=Path, help="file holding the bearer token")
    group.add_argument("--tls", action="store_true", help="TLS with the system's CA certificates")
    group.add_argument("--tls-ca", type=Path, help="TLS with this PEM CA bundle")


def _load_crops(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with np.load(args.npz) as data:
            if args.images not in data:
                raise EmostreamError(f"{args.npz}: no array {args.images!r} (has {', '.join(data.files)})")
            limit = slice(None, args.limit or None)
            crops = np.ascontiguousarray(data[args.images][limit])
            labels = data[args.labels][limit] if args.labels in data else None
    except (OSError, ValueError) as error:
        raise EmostreamError(f"{args.npz}: not a readable .npz ({error})") from error
    if crops.dtype != np.uint8 or crops.ndim != 3 or crops.shape[1:] != (48, 48):
        raise EmostreamError(f"{args.npz}[{args.images}]: need (N, 48, 48) uint8, got {crops.shape} {crops.dtype}")
    return crops, labels


def run_classify(args: argparse.Namespace) -> int:
    from emostream.classifier.client import GrpcEmotionClassifier
    from emostream.core.rpc import resolve_token

    try:
        crops, labels = _load_crops(args)
        token = resolve_token(args.token_file)
        with GrpcEmotionClassifier(args.target, args.timeout, token=token, tls=args.tls, tls_ca=args.tls_ca) as client:
            info = client.info
            started = time.perf_counter()
            outputs = [client.classify(crops[i : i + args.batch]) for i in range(0, len(crops), max(1, args.batch))]
            seconds = time.perf_counter() - started
    except EmostreamError as error:
        return fail(str(error))
    probabilities = np.concatenate(outputs) if outputs else np.zeros((0, len(info.classes)), np.float32)
    predicted = probabilities.argmax(axis=1)
    accuracy = float((predicted == labels).mean()) if labels is not None and len(labels) else None
    counts = {name: int((predicted == i).sum()) for i, name in enumerate(info.classes)}
    if args.json:
        print(json.dumps({"model": info.as_dict(), "count": len(crops), "seconds": round(seconds, 4),
                          "accuracy": accuracy, "predicted": counts,
                          "labels": [info.classes[i] for i in predicted]}, sort_keys=True))  # fmt: skip
        return 0
    rate = len(crops) / seconds if seconds > 0 else float("inf")
    print(f"{args.target}: model {info.name} {info.version}; {len(crops)} crops in {seconds:.3f} s ({rate:.0f}/s)")
    print("  predicted: " + " ".join(f"{name}={count}" for name, count in counts.items()))
    if accuracy is not None:
        print(f"  accuracy: {accuracy:.4f}")
    return 0


def _face_record(face: face_pb2.Face, classes: list[str]) -> dict[str, object]:
    probabilities = list(face.probabilities)
    return {
        "box": [round(v, 2) for v in (face.box.x1, face.box.y1, face.box.x2, face.box.y2)],
        "score": round(face.score, 4),
        "keypoints": [[round(p.x, 1), round(p.y, 1)] for p in face.keypoints if np.isfinite([p.x, p.y]).all()],
        "quality": sorted(flag.value for flag in quality_from_proto(face.quality)),
        "label": face.label,
        "confidence": round(face.confidence, 4),
        "probabilities": (
            {name: round(p, 4) for name, p in zip(classes, probabilities, strict=True)} if probabilities else None
        ),
    }


def run_analyze(args: argparse.Namespace) -> int:
    from emostream.classifier.client import analyze_photo
    from emostream.core.rpc import resolve_token

    failures = 0
    try:
        token = resolve_token(args.token_file)
    except EmostreamError as error:
        return fail(str(error))
    for path in args.photos:
        try:
            data = path.read_bytes()
        except OSError as error:
            fail(f"{path}: cannot read ({error.strerror or error})")
            failures += 1
            continue
        try:
            response = analyze_photo(args.target, data, args.timeout, token=token, tls=args.tls, tls_ca=args.tls_ca)
        except EmostreamError as error:
            fail(f"{path}: {error}")
            failures += 1
            continue
        classes = list(response.classes)
        records = [_face_record(face, classes) for face in response.faces]
        if args.json:
            print(json.dumps({"image": str(path), "width": response.width, "height": response.height,
                              "model_version": response.model_version, "faces": records}, sort_keys=True))  # fmt: skip
            continue
        print(f"{path}: {len(records)} face(s)")
        for number, record in enumerate(records, start=1):
            probs = record["probabilities"]
            detail = "" if not isinstance(probs, dict) else "  " + " ".join(f"{k}={v:.2f}" for k, v in probs.items())
            print(f"  #{number} {record['label']} {record['confidence']:.0%} box={record['box']}{detail}")
    return 1 if failures else 0
