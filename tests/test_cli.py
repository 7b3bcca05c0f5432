"""The `newsfacts` command as a user runs it: clean, sql (read-only) and help."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb

from tests.conftest import SEEDS


def newsfacts(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsfacts.cli", *args], capture_output=True, text=True)


def test_help_lists_the_commands():
    out = newsfacts("--help")
    assert out.returncode == 0
    for command in ("run", "clean", "geocode", "sql"):
        assert command in out.stdout


def test_clean_prints_one_json_line_per_file_and_reports_bad_ones(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = newsfacts("clean", str(SEEDS / "002_280bab9ed6877c1e.txt"), str(empty))
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 2 and out.returncode == 1
    good, bad = lines
    assert good["title"] == "Putin: Russia will seek to extend gains in Ukraine if peace talks fail"
    assert "Kremlin’s demands" in good["body"] and "\u00e2" not in good["body"]
    assert good["language"] == "en" and good["encoding_repaired"] is True
    assert "empty" in bad["error"] and "empty.txt" in out.stderr


def test_sql_is_read_only_and_writes_files(tmp_path):
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create table dim_actor as select 'a1' as actor_id, 'Vladimir Putin' as name")
    con.close()
    out = newsfacts("sql", "select name from dim_actor", "--warehouse", str(wh))
    assert out.returncode == 0 and "Vladimir Putin" in out.stdout
    out = newsfacts("sql", "delete from dim_actor", "--warehouse", str(wh))
    assert out.returncode == 1 and "read-only" in out.stderr.lower()
    target = tmp_path / "actors.parquet"
    out = newsfacts("sql", "select * from dim_actor", "--warehouse", str(wh), "--format", "parquet",
                    "--output", str(target))
    assert out.returncode == 0
    assert duckdb.sql(f"select name from '{target}'").fetchall() == [("Vladimir Putin",)]


def test_sql_examples_exist_and_unknown_ones_are_named(tmp_path):
    out = newsfacts("sql", "--example", "nope", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert out.returncode == 2
    assert "top-actors" in out.stderr
