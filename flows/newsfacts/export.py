"""Export the analyst tables as Parquet for tools that read Parquet (pandas, Polars, Spark, BI tools).

Dimensions, views and documents become one file each; the mention facts become hive-partitioned
folders (``ingest_date=YYYY-MM-DD/``) so a reader can prune by load day and a new day's export adds
a partition instead of rewriting history. The warehouse is opened read-only.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from newsfacts import dictionary

# Tables written as one file each.
TABLES = ("dim_actor", "dim_location", "unresolved_toponym", "dropped_actor_candidate", "actor_counts",
          "location_counts", "documents", "quarantine", "dq_results")
# Mention facts: one folder each, partitioned by the ingest date of their document.
PARTITIONED = ("fact_actor_mention", "fact_location_mention", "fact_actor_location_cooccurrence")
PARTITION = "ingest_date"
MANIFEST = "manifest.json"


def _ingest_dates() -> str:
    """doc_id → the day its raw input was first ingested (UTC)."""
    return ("select d.doc_id, cast(r.ingested_at as date) as ingest_date "
            "from documents as d inner join raw_documents as r on r.content_hash = d.content_hash")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def export_parquet(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, dict]:
    """Write every mart, view and the mention facts under ``out_dir``; returns ``{table: {path, rows}}``.

    A manifest (``manifest.json``) lists each table's path, row count, partitioning and description.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    present = dictionary.warehouse_columns(con)
    doc = dictionary.load()
    written: dict[str, dict] = {}
    for table in TABLES:
        if table not in present:
            continue
        target = out_dir / f"{table}.parquet"
        con.execute(f"copy (select * from {table}) to '{_quote(target)}' (format parquet, compression zstd)")
        written[table] = {"path": target.name, "rows": con.execute(f"select count(*) from {table}").fetchone()[0]}
    for table in PARTITIONED:
        if table not in present:
            continue
        target = out_dir / table
        query = (f"select f.*, coalesce(i.ingest_date, current_date) as {PARTITION} from {table} as f "
                 f"left join ({_ingest_dates()}) as i on i.doc_id = f.doc_id")
        rows = con.execute(f"select count(*) from {table}").fetchone()[0]
        if target.exists():
            shutil.rmtree(target)
        if rows:
            con.execute(f"copy ({query}) to '{_quote(target)}' "
                        f"(format parquet, compression zstd, partition_by ({PARTITION}), overwrite)")
        written[table] = {"path": f"{table}/", "rows": rows, "partitioned_by": PARTITION}
    for table, info in written.items():
        if table in doc.tables:
            info["description"] = doc.tables[table].description
            info["columns"] = {c: doc.describe(table, c) for c in present[table][1]}
    manifest = {"exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "tables": written}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return written


def export_warehouse(warehouse: Path, out_dir: Path) -> dict[str, dict]:
    """Open the published warehouse read-only and export it (see ``export_parquet``)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return export_parquet(con, out_dir)
    finally:
        con.close()
