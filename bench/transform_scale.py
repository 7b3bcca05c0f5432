"""The transform at warehouse scale: a rebuild of every document against a rebuild of a few, on one file.

Copies a working warehouse (``.newsfacts.work/working.duckdb`` of any run), repeats its documents' stage
rows ``--copies`` times under new document ids (so the SQL models see that many documents), then times:
every document rebuilt in slices (``pending_transform`` listing all of them), and ``--changed`` documents
rebuilt; and checks that the per-document models hold the same rows either way.

usage: .venv/bin/python bench/transform_scale.py WORKING.duckdb [--copies 110] [--changed 100]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flows"))

STAGE_TABLES = ["documents", "entity_mentions", "actor_mentions", "toponym_mentions", "sentences", "story_signatures"]


def replicate(con, copies: int) -> None:
    for table in STAGE_TABLES:
        cols = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        sel = ", ".join("doc_id || '-' || i::varchar as doc_id" if c == "doc_id" else c for c in cols)
        con.execute(f"create temp table _copy as select * from {table}")
        con.execute(f"insert into {table} select {sel} from _copy, range(1, {copies}) r(i)")
        con.execute("drop table _copy")


def transform(con, sql_dir: Path, timings: dict | None = None) -> float:
    from newsfacts import warehouse

    t = time.perf_counter()
    warehouse.run_models(con, sql_dir, "head", True, timings=timings)
    warehouse.run_models(con, sql_dir, "tail", True, timings=timings)
    con.execute(f"delete from {warehouse.PENDING}")
    return time.perf_counter() - t


def main() -> int:
    from newsfacts import warehouse
    from newsfacts.config import Settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("working", type=Path)
    ap.add_argument("--copies", type=int, default=110)
    ap.add_argument("--changed", type=int, default=100)
    args = ap.parse_args()
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.duckdb"
        shutil.copyfile(args.working, path)
        warehouse.move_intermediate_out(path, settings.sql_dir)  # as the pipeline lays its files out
        con = warehouse.connect(path, settings.gazetteer, memory_limit=settings.duckdb_memory)
        warehouse.attach_intermediate(con, Path(tmp) / "intermediate.duckdb")
        con.execute(warehouse.SCHEMA.read_text())
        replicate(con, args.copies)
        docs = con.execute("select count(*) from documents").fetchone()[0]
        warehouse.reset_incremental(con, settings.sql_dir)
        full = transform(con, settings.sql_dir)
        models = warehouse.incremental_models(settings.sql_dir)
        for m in models:
            con.execute(f"create temp table snap_{m} as select * from {m}")
        con.execute(f"insert into {warehouse.PENDING} select doc_id from documents "
                    f"using sample {args.changed} rows (reservoir, 7)")
        timings: dict[str, float] = {}
        part = transform(con, settings.sql_dir, timings)
        print(f"{docs} documents: every document rebuilt {full:.1f} s; {args.changed} rebuilt {part:.1f} s")
        for m, sec in sorted(timings.items(), key=lambda kv: -kv[1]):
            print(f"  {m:32s} {sec:6.2f} s with {args.changed} rebuilt")
        con.execute("set memory_limit = '4GB'")  # the check, not the transform: it compares whole tables
        for m in models:
            cols = ", ".join(f"round({c}, 9) as {c}" if ty == "DOUBLE" else c for c, ty in con.execute(
                f"select column_name, column_type from (describe snap_{m})").fetchall())
            diff = con.execute(f"select (select count(*) from (select {cols} from snap_{m} except all "
                               f"select {cols} from {m})) + (select count(*) from (select {cols} from {m} "
                               f"except all select {cols} from snap_{m}))").fetchone()[0]
            print(f"  {m:32s} {diff} rows differ")
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
