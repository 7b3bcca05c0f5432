"""The ``newsfacts`` command: run the pipeline, or use one of its stages on its own."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import sys
import time
import traceback
from datetime import date
from pathlib import Path

from newsfacts.config import Settings


def _run(args: argparse.Namespace) -> int:
    # Offline by design: no telemetry calls from the temporary Prefect server or from GX.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name, value in (("TASK_RUNNER", args.task_runner), ("DASK_ADDRESS", args.dask_address),
                        ("WORKERS", args.workers), ("LOCK_WAIT", args.lock_wait)):
        if value is not None:
            os.environ[f"NEWSFACTS_{name}"] = str(value)
    from newsfacts.api import ServerUnavailable, prefect_api
    from newsfacts.sources import SourceRefused, resolve

    settings = Settings()
    transform_only = bool(args.stages) and "ingest" not in args.stages
    try:  # a wrong source is refused in one line, before anything starts
        if not transform_only:
            resolve(args.source or settings.source)
    except SourceRefused as exc:
        print(f"newsfacts: {exc}", file=sys.stderr)
        return 2
    try:
        # Prefect's server starts first, in its own process, so its start-up overlaps everything below.
        with prefect_api(settings) as api_ready:
            _ensure_gazetteer(settings.gazetteer)
            from newsfacts.flow import configured_flow
            from newsfacts.gates import GateFailed
            from newsfacts.lock import WriterBusy
            from newsfacts.runs import RunSummary

            api_ready()
            given = dict(source=args.source, warehouse_path=args.warehouse, batch_size=args.batch_size,
                         stages=args.stages, ingested_from=args.ingested_from, ingested_to=args.ingested_to,
                         published_from=args.published_from, published_to=args.published_to)
            try:
                summary = configured_flow()(force=args.force, **{k: v for k, v in given.items() if v is not None})
            except GateFailed as exc:
                print(f"newsfacts: run stopped, nothing published.\n{exc}", file=sys.stderr)
                return 1
            except (WriterBusy, SourceRefused) as exc:
                print(f"newsfacts: {exc}", file=sys.stderr)
                return 3 if isinstance(exc, WriterBusy) else 2
    except ServerUnavailable as exc:
        print(f"newsfacts: {exc}", file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - report any failure plainly; the published warehouse is untouched
        traceback.print_exc()
        print("newsfacts: run failed, nothing published (the previous warehouse is unchanged).", file=sys.stderr)
        return 1
    print("\nnewsfacts run complete")
    for line in RunSummary(**summary).lines():
        print(f"  {line}")
    print(f"  took {summary['seconds']} s (flow body)")
    return 0


def _ensure_gazetteer(path: Path) -> None:
    """Build the gazetteer before the flow starts (first run, or a new gazetteer version), saying so."""
    from newsfacts.gazetteer import GAZETTEER_VERSION, ensure_gazetteer, stored_version

    if stored_version(path) == GAZETTEER_VERSION:
        return
    print(f"building the gazetteer {GAZETTEER_VERSION} at {path} from the packaged GeoNames data "
          "(first run or new version only; about a minute) ...", flush=True)
    started = time.monotonic()
    ensure_gazetteer(path)
    print(f"gazetteer built in {time.monotonic() - started:.0f} s", flush=True)


def _serve(args: argparse.Namespace) -> int:
    from newsfacts.deploy import serve

    return serve(keep_schedules=args.keep_schedules, schedule=args.cron)


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
# Statement types a query may have: reads only. A read-only connection still lets COPY … TO, EXPORT,
# ATTACH, INSTALL and SET write files or change the session, so those are refused before execution.
READ_STATEMENTS = {"SELECT", "EXPLAIN"}
READ_PRAGMAS = {"table_info", "show_tables", "show_tables_expanded", "show", "database_size", "storage_info",
                "version", "platform", "functions", "collations", "metadata_info", "database_list"}


def refuse_writes(query: str) -> str | None:
    """Why ``query`` is refused (it could write or change something), or None when it only reads."""
    import duckdb

    try:
        statements = duckdb.connect().extract_statements(query)
    except duckdb.Error as exc:
        return str(exc)
    if not statements:
        return "the query is empty"
    for st in statements:
        kind = st.type.name
        if kind == "PRAGMA":
            m = re.match(r"\s*pragma\s+(\w+)", st.query, re.I)
            if m and m.group(1).lower() in READ_PRAGMAS:
                continue
        if kind not in READ_STATEMENTS:
            word = (st.query.strip().split() or [kind])[0].upper()
            return (f"refused: `{word} …` is a {kind} statement and `newsfacts sql` is read-only "
                    "(only select/with/describe/show/summarize/explain and read-only pragmas run). "
                    "To save results use --format csv|json|parquet --output FILE.")
    return None


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
    if args.format == "parquet" and not args.output:
        print("newsfacts sql: --format parquet needs --output FILE", file=sys.stderr)
        return 2
    reason = refuse_writes(query)
    if reason:
        print(f"newsfacts sql: {reason}", file=sys.stderr)
        return 1
    warehouse = _published(args, "sql")
    if warehouse is None:
        return 2
    # Read-only, on the published snapshot: an analyst query can never modify it or block a run, and
    # with external access off it cannot read other local files (read_text, read_csv, …) either.
    con = duckdb.connect(str(warehouse), read_only=True, config={"enable_external_access": False})
    try:
        result = con.sql(query)
        if result is not None:
            table = ((result.columns, result.fetchall()) if args.format == "table"
                     else result.to_arrow_table())
    except duckdb.Error as exc:
        print(f"newsfacts sql: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    if result is None:
        print("(no result)")
        return 0
    if args.format == "table":
        print(table_text(*table, max_width=args.max_width))
        return 0
    return _write_result(table, args.format, args.output)


def table_text(columns: list[str], rows: list[tuple], max_width: int = 90) -> str:
    """Rows as a plain right-aligned text table (no pandas: its import alone costs a second)."""
    if not rows:
        return "(no rows)"

    def cell(v) -> str:
        text = "" if v is None else str(v)
        return text if len(text) <= max_width else text[:max(0, max_width - 3)] + "..."

    cells = [list(columns)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join(" ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells)


def _write_result(table, fmt: str, output: str | None) -> int:
    """Write an Arrow result with DuckDB's own writers, so types (lists, timestamps) survive the round trip."""
    import duckdb

    options = {"csv": "format csv, header", "json": "format json", "parquet": "format parquet"}[fmt]
    mem = duckdb.connect()
    mem.register("result", table)
    sys.stdout.flush()
    target = str(Path(output)).replace("'", "''") if output else "/dev/stdout"
    mem.execute(f"copy result to '{target}' ({options})")
    mem.close()
    if output is None:
        return 0
    print(f"{table.num_rows} rows written to {output}")
    return 0


def _dictionary(args: argparse.Namespace) -> int:
    from newsfacts import dictionary

    if args.update_docs is not None or args.markdown:
        from newsfacts.warehouse import reference_warehouse

        con = reference_warehouse(Settings())
        try:
            if args.markdown:
                print(dictionary.markdown(con))
                return 0
            doc = Path(args.update_docs or dictionary.DOC)
            changed = dictionary.update_doc(doc, con)
        finally:
            con.close()
        print(f"{doc}: data dictionary {'updated' if changed else 'already up to date'}")
        return 0
    import duckdb

    warehouse = _published(args, "dictionary")
    if warehouse is None:
        return 2
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        print(dictionary.text(con, args.table))
    except KeyError:
        print(f"newsfacts dictionary: no table or view '{args.table}'", file=sys.stderr)
        return 2
    finally:
        con.close()
    return 0


def _published(args: argparse.Namespace, command: str) -> Path | None:
    """The published warehouse a read-only command works on, or None after saying it is missing."""
    warehouse = Path(args.warehouse) if args.warehouse else Settings().warehouse
    if not warehouse.exists():
        print(f"newsfacts {command}: no warehouse at {warehouse} (run `newsfacts run` first)", file=sys.stderr)
        return None
    return warehouse


def _export(args: argparse.Namespace) -> int:
    from newsfacts.export import export_warehouse

    warehouse = _published(args, "export")
    if warehouse is None:
        return 2
    written = export_warehouse(warehouse, Path(args.directory))
    for table, info in written.items():
        part = f" (partitioned by {info['partitioned_by']})" if "partitioned_by" in info else ""
        print(f"  {table:<34} {info['rows']:>9,} rows  {info['path']}{part}")
    print(f"{len(written)} tables exported to {args.directory} (manifest.json lists them)")
    return 0


def _report(args: argparse.Namespace) -> int:
    from newsfacts import report

    warehouse = _published(args, "report")
    if warehouse is None:
        return 2
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(f"newsfacts report: --since wants a date like 2026-11-21, not '{args.since}'", file=sys.stderr)
        return 2
    output = Path(args.output) if args.output else warehouse.parent / "report.html"
    print(f"report written to {report.write(warehouse, output, since=since)}")
    return 0


def _raw(args: argparse.Namespace) -> int:
    """Write one input's raw bytes, as read, from the raw store (quarantine audit, replaying a page)."""
    from newsfacts.rawstore import CorruptRaw, MissingRaw, RawStore

    settings = Settings().with_overrides(warehouse=args.warehouse)
    if not re.fullmatch(r"[0-9a-f]{64}", args.content_hash):
        print("newsfacts raw: want a content hash (64 hex characters, raw_documents.content_hash or "
              "quarantine.content_hash)", file=sys.stderr)
        return 2
    try:
        data = RawStore(settings.raw_store).get(args.content_hash)
    except (MissingRaw, CorruptRaw) as exc:
        print(f"newsfacts raw: {exc}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
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
    run.add_argument("--stages", nargs="+", choices=["ingest", "clean", "entities", "transform"],
                     help="run only these stages (e.g. --stages transform after a gazetteer update)")
    for name, what in (("ingested", "ingested"), ("published", "published")):
        run.add_argument(f"--{name}-from", type=date.fromisoformat, metavar="YYYY-MM-DD",
                         help=f"reprocess stored documents {what} on or after this date")
        run.add_argument(f"--{name}-to", type=date.fromisoformat, metavar="YYYY-MM-DD",
                         help=f"reprocess stored documents {what} on or before this date")
    run.add_argument("--task-runner", choices=["threads", "dask"],
                     help=f"where clean and NER run (default {defaults.task_runner})")
    run.add_argument("--dask-address", help="Dask scheduler address (default: a local cluster)")
    run.add_argument("--workers", type=int, help="parallel slices per batch / local Dask processes")
    run.add_argument("--lock-wait", type=float, help="seconds to wait for another run's writer lock (default 0)")
    run.set_defaults(func=_run)

    srv = sub.add_parser("serve", help="start (or connect to) a loopback Prefect server and serve the deployments")
    srv.add_argument("--cron", help=f"schedule of the inbox deployment (default {defaults.inbox_cron!r})")
    srv.add_argument("--keep-schedules", action="store_true",
                     help="leave the schedule active when serve stops (default: Prefect pauses it)")
    srv.set_defaults(func=_serve)

    clean = sub.add_parser("clean", help="print the pipeline's clean text of each file as one JSON line")
    clean.add_argument("files", nargs="+", metavar="FILE")
    clean.set_defaults(func=_clean)

    sql = sub.add_parser("sql", help="query the published warehouse read-only")
    sql.add_argument("query", nargs="?", help="a SQL query")
    sql.add_argument("--example", help="run a named example query from sql/examples/ instead")
    sql.add_argument("--warehouse", help=f"DuckDB file (default {defaults.warehouse})")
    sql.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    sql.add_argument("--output", help="file to write (csv and json go to standard output without it)")
    sql.add_argument("--max-width", type=int, default=90, help="truncate table cells to this width")
    sql.set_defaults(func=_sql)

    dic = sub.add_parser("dictionary", help="describe the warehouse's tables and columns (the data dictionary)")
    dic.add_argument("table", nargs="?", help="one table or view: describe its columns")
    dic.add_argument("--warehouse", help=f"DuckDB file (default {defaults.warehouse})")
    dic.add_argument("--markdown", action="store_true", help="print the generated section of docs/warehouse.md")
    dic.add_argument("--update-docs", nargs="?", const="", metavar="FILE",
                     help="rewrite the generated tables section of FILE (default docs/warehouse.md)")
    dic.set_defaults(func=_dictionary)

    exp = sub.add_parser("export", help="write the marts and views as Parquet (mention facts partitioned by day)")
    exp.add_argument("directory", metavar="DIR")
    exp.add_argument("--format", choices=["parquet"], default="parquet")
    exp.add_argument("--warehouse", help=f"DuckDB file (default {defaults.warehouse})")
    exp.set_defaults(func=_export)

    rep = sub.add_parser("report", help="write a self-contained HTML report with a map (renders offline)")
    rep.add_argument("--since", metavar="DATE", help="only documents dated on or after DATE (YYYY-MM-DD)")
    rep.add_argument("--output", metavar="FILE", help="HTML file (default: report.html next to the warehouse)")
    rep.add_argument("--warehouse", help=f"DuckDB file (default {defaults.warehouse})")
    rep.set_defaults(func=_report)

    raw = sub.add_parser("raw", help="write an input's raw bytes, as read, from the raw store")
    raw.add_argument("content_hash", metavar="HASH", help="its SHA-256 (raw_documents or quarantine content_hash)")
    raw.add_argument("--output", metavar="FILE", help="file to write (default: standard output)")
    raw.add_argument("--warehouse", help=f"the warehouse whose raw store to read (default {defaults.warehouse})")
    raw.set_defaults(func=_raw)

    geo = sub.add_parser("geocode", help="resolve toponyms in JSON lines {id, text, spans?} to places")
    geo.add_argument("input", nargs="?", default="-", help="JSON lines file (default: standard input)")
    geo.set_defaults(func=_geocode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
    except BrokenPipeError:  # output piped into `head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    # Release DuckDB handles held in caches before interpreter shutdown, which otherwise makes
    # the bindings print spurious "leaked instance" warnings at exit.
    gc.collect()
    return status


if __name__ == "__main__":
    sys.exit(main())
