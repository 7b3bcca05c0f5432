"""`newsfacts sql`: read-only on the published warehouse, writes refused, csv/json/parquet round-trip."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest
from newsfacts.cli import EXAMPLES, refuse_writes


def newsfacts(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsfacts.cli", *args], capture_output=True, text=True)


@pytest.fixture
def wh(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table dim_actor as select * from (values "
                "('a1', 'Vladimir Putin', ['Putin', 'Vladimir Putin'], 36, 4.5::double, timestamp '2026-11-21 10:00'),"
                "('a2', 'Ivan \"Vanya\" Fedorov, Jr.', ['Fedorov'], 1, null, null)) "
                "as t(actor_id, name, aliases, mention_count, score, seen_at)")
    con.close()
    return path


@pytest.mark.parametrize("query", [
    "drop table dim_actor",
    "insert into dim_actor (actor_id) values ('x')",
    "update dim_actor set name = 'x'",
    "delete from dim_actor",
    "create table t as select 1",
    "alter table dim_actor add column x int",
    "copy dim_actor to '{out}'",
    "copy (select * from dim_actor) to '{out}' (format parquet)",
    "export database '{dir}'",
    "attach '{db}' as other",
    "install httpfs",
    "load httpfs",
    "set threads = 1",
    "pragma enable_profiling",
    "select 1; drop table dim_actor",
    "checkpoint",
])
def test_writes_are_refused_with_a_clear_message_and_change_nothing(wh, tmp_path, query):
    out, other = tmp_path / "leak.csv", tmp_path / "other.duckdb"
    q = query.format(out=out, dir=tmp_path / "dump", db=other)
    run = newsfacts("sql", q, "--warehouse", str(wh))
    assert run.returncode == 1
    assert "read-only" in run.stderr and "refused" in run.stderr
    assert not out.exists() and not other.exists() and not (tmp_path / "dump").exists()
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("select count(*) from dim_actor").fetchone()[0] == 2
    assert [c for (c,) in con.execute("select column_name from duckdb_columns() where table_name = 'dim_actor'"
                                      ).fetchall()] == ["actor_id", "name", "aliases", "mention_count", "score",
                                                        "seen_at"]
    con.close()


@pytest.mark.parametrize("query", [
    "select 1", "with x as (select 1) select * from x", "from dim_actor", "describe dim_actor", "show tables",
    "summarize dim_actor", "explain select 1", "pragma table_info('dim_actor')", "select 1; select 2",
])
def test_reads_are_allowed(query):
    assert refuse_writes(query) is None


def test_reads_run_against_a_warehouse_a_writer_holds_open_elsewhere(wh):
    out = newsfacts("sql", "select name from dim_actor order by actor_id", "--warehouse", str(wh))
    assert out.returncode == 0 and out.stdout.split("\n")[1].strip() == "Vladimir Putin"


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_outputs_round_trip(wh, tmp_path, fmt):
    target = tmp_path / f"actors.{fmt}"
    run = newsfacts("sql", "select * from dim_actor order by actor_id", "--warehouse", str(wh), "--format", fmt,
                    "--output", str(target))
    assert run.returncode == 0 and "2 rows written" in run.stdout
    con = duckdb.connect(str(wh), read_only=True)
    expected = con.execute("select * from dim_actor order by actor_id").fetchall()
    con.close()
    reader = {"csv": "read_csv", "json": "read_json", "parquet": "read_parquet"}[fmt]
    got = duckdb.connect().execute(f"select * from {reader}('{target}') order by actor_id").fetchall()
    if fmt == "csv":  # CSV has no list type: DuckDB writes a list as "[a, b]"
        got = [(*r[:2], r[2].strip("[]").split(", "), *r[3:]) for r in got]
    assert got == expected


def test_csv_and_json_print_to_standard_output_without_output(wh):
    run = newsfacts("sql", "select actor_id, name from dim_actor order by actor_id", "--warehouse", str(wh),
                    "--format", "json")
    assert run.returncode == 0
    assert [json.loads(line)["name"] for line in run.stdout.splitlines()] == [
        "Vladimir Putin", 'Ivan "Vanya" Fedorov, Jr.']
    run = newsfacts("sql", "select name from dim_actor order by actor_id", "--warehouse", str(wh), "--format", "csv")
    assert run.stdout.splitlines() == ["name", "Vladimir Putin", '"Ivan ""Vanya"" Fedorov, Jr."']
    assert newsfacts("sql", "select 1", "--warehouse", str(wh), "--format", "parquet").returncode == 2


def test_every_example_is_a_read_only_query():
    examples = sorted(EXAMPLES.glob("*.sql"))
    assert len(examples) >= 5
    for path in examples:
        assert refuse_writes(path.read_text()) is None, path.name
