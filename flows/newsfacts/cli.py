"""The ``newsfacts`` command: run the pipeline, or use one of its stages on its own."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
from pathlib import Path

from newsfacts.config import Settings


def _run(args: argparse.Namespace) -> int:
    # Offline by design: no telemetry calls from the ephemeral Prefect server or from GX.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    from newsfacts.flow import newsfacts_flow
    from newsfacts.gates import GateFailed

    try:
        summary = newsfacts_flow(source=args.source, warehouse_path=args.warehouse, force=args.force,
                                 batch_size=args.batch_size)
    except GateFailed as exc:
        print(f"newsfacts: run stopped, nothing published.\n{exc}", file=sys.stderr)
        return 1
    from newsfacts.flow import RunSummary

    print("\nnewsfacts run complete")
    for line in RunSummary(**summary).lines():
        print(f"  {line}")
    print(f"  took {summary['seconds']} s (flow body)")
    return 0


def _clean(args: argparse.Namespace) -> int:
    from newsfacts.clean import clean_file
    from newsfacts.encoding import BadInput

    status = 0
    for name in args.files:
        try:
            record = clean_file(Path(name))
        except (BadInput, OSError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            print(f"newsfacts clean: {name}: {reason}", file=sys.stderr)
            print(json.dumps({"source": name, "error": reason}, ensure_ascii=False))
            status = 1
            continue
        print(json.dumps(record, ensure_ascii=False, default=str))
    return status


def _geocode(args: argparse.Namespace) -> int:
    from newsfacts.geocode import geocode

    with contextlib.ExitStack() as stack:
        stream = sys.stdin if args.input == "-" else stack.enter_context(open(args.input, encoding="utf-8"))
        records = (json.loads(line) for line in stream if line.strip())
        for out in geocode(records, gazetteer_path=Settings().gazetteer):
            print(json.dumps(out, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsfacts",
        description="Turn news articles into queryable actor and location facts in DuckDB.")
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = Settings()

    run = sub.add_parser("run", help="run the pipeline over a folder and publish the warehouse")
    run.add_argument("--source", help=f"folder of .txt/.html/.htm/.html.gz files (default {defaults.source})")
    run.add_argument("--warehouse", help=f"DuckDB file to publish (default {defaults.warehouse})")
    run.add_argument("--force", action="store_true", help="reprocess inputs even when their content is unchanged")
    run.add_argument("--batch-size", type=int, help=f"documents per batch (default {defaults.batch_size})")
    run.set_defaults(func=_run)

    clean = sub.add_parser("clean", help="print the pipeline's clean text of each file as one JSON line")
    clean.add_argument("files", nargs="+", metavar="FILE")
    clean.set_defaults(func=_clean)

    geo = sub.add_parser("geocode", help="resolve toponyms in JSON lines {id, text, spans?} to places")
    geo.add_argument("input", nargs="?", default="-", help="JSON lines file (default: standard input)")
    geo.set_defaults(func=_geocode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status = args.func(args)
    # Release DuckDB handles held in caches before interpreter shutdown, which otherwise makes
    # the bindings print spurious "leaked instance" warnings at exit.
    gc.collect()
    return status


if __name__ == "__main__":
    sys.exit(main())
