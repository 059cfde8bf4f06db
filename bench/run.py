"""Every benchmark of issue 7 in one run: writes ``bench/results/<date>-<host>.json`` (every row, every number)
and ``.md`` (the table), next to the replay profile, and prints the table.

    python -m bench.run            # make bench: full repeats, targets asserted (exit 1 on a miss)
    python -m bench.run --quick    # make bench-quick: tiny repeats, smoke test, no targets asserted
    python -m bench.run --quick --only model detector

A benchmark that crashes becomes a row saying so (and exit 1), so one failure does not hide the rest.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from bench.common import RESULTS, machine
from bench.table import Row, markdown, summary

BENCHMARKS = ("classifier", "model", "detector", "end_to_end", "profile", "distributed", "gpu")


def runners(quick: bool, stem: str) -> dict[str, Callable[[], list[Row]]]:
    def classifier() -> list[Row]:
        from bench import classifier_service

        return classifier_service.rows(quick)

    def model() -> list[Row]:
        from bench import model_throughput

        return model_throughput.rows(quick)

    def detector() -> list[Row]:
        from bench import detector_speed

        return detector_speed.rows(quick)

    def end_to_end() -> list[Row]:
        from bench import end_to_end as e2e

        return e2e.rows(quick)

    def profile() -> list[Row]:
        from bench import profile_replay

        return profile_replay.rows(quick, RESULTS / f"{stem}-replay-profile")

    def distributed() -> list[Row]:
        from bench import distributed as dist

        return dist.rows(quick)

    def gpu() -> list[Row]:
        from bench import gpu as cuda

        return cuda.rows(quick)

    return {
        "classifier": classifier,
        "model": model,
        "detector": detector,
        "end_to_end": end_to_end,
        "profile": profile,
        "distributed": distributed,
        "gpu": gpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny repeats; no targets asserted (CI smoke run)")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run these benchmarks only")
    parser.add_argument("--no-assert", action="store_true", help="exit 0 even when a target is missed")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    stem = f"{now:%Y-%m-%d}-{socket.gethostname()}" + ("-quick" if args.quick else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    errors, timings = [], {}
    for name, run in runners(args.quick, stem).items():
        if args.only and name not in args.only:
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            rows += run()
        except Exception as error:  # one benchmark's failure is a row, not the end of the run
            traceback.print_exc()
            errors.append(name)
            rows.append(
                Row(
                    name,
                    "(benchmark)",
                    "",
                    f"error: {error.__class__.__name__}: {error}",
                    False,
                    f"python -m bench.run --only {name}",
                )
            )
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"[bench] {name}: {timings[name]} s", file=sys.stderr, flush=True)
    host = machine()
    flags = " ".join(host["cpu_flags"]) or "no vector extensions read"
    notes = [
        f"{now:%Y-%m-%d %H:%M} UTC on {host['host']}: {host['cpu']} ({flags}), {host['cores']} cores, "
        f"Python {host['python']}" + (" — **quick run: tiny repeats, targets not asserted**" if args.quick else ""),
        "Absolute times hold for this machine only; ratios are taken in the same run.",
        f"Seconds per benchmark: {timings}",
    ]
    table = markdown(rows, title="emostream benchmarks", notes=notes)
    (RESULTS / f"{stem}.md").write_text(table)
    document = {
        "date": now.isoformat(timespec="seconds"),
        "machine": host,
        "quick": args.quick,
        "seconds": timings,
        "summary": summary(rows),
        "rows": [r.as_dict() for r in rows],
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(table)
    print(f"wrote {RESULTS / stem}.json and .md; {summary(rows)}")
    missed = not args.quick and not args.no_assert and summary(rows)["FAIL"] > 0
    return 1 if errors or missed else 0


if __name__ == "__main__":
    sys.exit(main())
