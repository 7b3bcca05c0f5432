"""The ``newsfacts`` command: run the pipeline, or use one of its stages on its own."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import traceback
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
    except Exception:  # noqa: BLE001 - report any failure plainly; the published warehouse is untouched
        traceback.print_exc()
        print("newsfacts: run failed, nothing published (the previous warehouse is unchanged).", file=sys.stderr)
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


EXAMPLES = Settings().sql_dir / "examples"


def _sql(args: argparse.Namespace) -> int:
    import duckdb

    if args.example:
        path = EXAMPLES / f"{args.example}.sql"
        if not path.exists():
            names = ", ".join(sorted(p.stem for p in EXAMPLES.glob("*.sql")))
            print(f"newsfacts sql: no example '{args.example}' (examples: {names})", file=sys.stderr)
            return 2
        query = path.read_text()
    elif args.query:
        query = args.query
    else:
        print("newsfacts sql: give a query or --example NAME", file=sys.stderr)
        return 2
    warehouse = Path(args.warehouse) if args.warehouse else Settings().warehouse
    if not warehouse.exists():
        print(f"newsfacts sql: no warehouse at {warehouse} (run `newsfacts run` first)", file=sys.stderr)
        return 2
    # Read-only: an analyst query can never modify the published snapshot.
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = con.execute(query).df()
    except duckdb.Error as exc:
        print(f"newsfacts sql: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    if args.format == "table":
        shown = frame.astype(object).where(frame.notna(), "")
        print(shown.to_string(index=False, max_colwidth=args.max_width) if len(frame) else "(no rows)")
        return 0
    if not args.output:
        print("newsfacts sql: --format csv|json|parquet needs --output FILE", file=sys.stderr)
        return 2
    {"csv": lambda: frame.to_csv(args.output, index=False),
     "json": lambda: frame.to_json(args.output, orient="records", lines=True, force_ascii=False, date_format="iso"),
     "parquet": lambda: frame.to_parquet(args.output, index=False)}[args.format]()
    print(f"{len(frame)} rows written to {args.output}")
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

    sql = sub.add_parser("sql", help="query the published warehouse read-only")
    sql.add_argument("query", nargs="?", help="a SQL query")
    sql.add_argument("--example", help="run a named example query from sql/examples/ instead")
    sql.add_argument("--warehouse", help=f"DuckDB file (default {defaults.warehouse})")
    sql.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    sql.add_argument("--output", help="file to write for csv/json/parquet")
    sql.add_argument("--max-width", type=int, default=90, help="truncate table cells to this width")
    sql.set_defaults(func=_sql)

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
