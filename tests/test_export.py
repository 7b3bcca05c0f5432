"""`newsfacts export --format parquet DIR`: every mart and view as Parquet, mention facts partitioned by day."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest
from newsfacts import export

pytestmark = pytest.mark.slow


def test_export_writes_every_mart_and_view_and_reads_back(seeds_warehouse, tmp_path):
    out = tmp_path / "parquet"
    run = subprocess.run([sys.executable, "-m", "newsfacts.cli", "export", "--format", "parquet", str(out),
                          "--warehouse", str(seeds_warehouse)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    con = duckdb.connect(str(seeds_warehouse), read_only=True)
    marts = {name for (name,) in con.execute(
        "select table_name from duckdb_tables() where table_name like 'dim_%' or table_name like 'fact_%' "
        "or table_name in ('unresolved_toponym', 'dropped_actor_candidate') "
        "union all select view_name from duckdb_views() where not internal"
    ).fetchall()}
    counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in marts | {"documents"}}
    ingest_days = {str(d) for (d,) in con.execute(
        "select distinct cast(r.ingested_at as date) from documents d join raw_documents r using (content_hash)"
    ).fetchall()}
    con.close()
    manifest = json.loads((out / "manifest.json").read_text())["tables"]
    assert marts <= set(manifest)
    for table, rows in counts.items():
        path = out / manifest[table]["path"]
        assert len(pd.read_parquet(path)) == rows == manifest[table]["rows"], table
    for table in export.PARTITIONED:
        folders = {p.name for p in (out / table).iterdir()}
        assert folders == {f"ingest_date={d}" for d in ingest_days}
        dataset = ds.dataset(out / table, format="parquet", partitioning="hive")
        assert "ingest_date" in dataset.schema.names and dataset.count_rows() == counts[table]
    assert manifest["dim_location"]["description"] and manifest["dim_location"]["columns"]["latitude"]


def test_export_again_replaces_the_previous_files(seeds_warehouse, tmp_path):
    out = tmp_path / "parquet"
    export.export_warehouse(seeds_warehouse, out)
    stale = out / "fact_location_mention" / "ingest_date=1999-01-01"
    stale.mkdir()
    (stale / "data_0.parquet").write_bytes(b"")
    first = export.export_warehouse(seeds_warehouse, out)
    assert not stale.exists()
    assert len(pd.read_parquet(out / "fact_location_mention")) == first["fact_location_mention"]["rows"]
