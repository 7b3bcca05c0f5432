"""The `newsfacts` command as a user runs it: clean, sql (read-only) and help."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest

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


def test_sql_answers_without_importing_pandas(tmp_path):
    """`newsfacts sql` is an analyst's quick look: pandas' import alone would cost a second."""
    wh = tmp_path / "w.duckdb"
    duckdb.connect(str(wh)).close()
    probe = ("import sys; from newsfacts.cli import main; code = main(['sql', 'select 1 as one', '--warehouse', "
             f"{str(wh)!r}]); print('pandas' in sys.modules); sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["one", "1", "False"]


def test_run_refuses_a_missing_source_in_one_line(tmp_path):
    out = newsfacts("run", "--source", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"newsfacts: source folder {tmp_path / 'nowhere'} does not exist "
                                               "or is not a folder"]


def _fresh_env(tmp_path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "empty-prefect-home"), **extra)
    return env


def test_a_server_that_does_not_start_in_time_is_one_clear_line(tmp_path):
    env = _fresh_env(tmp_path, NEWSFACTS_PREFECT_STARTUP_TIMEOUT="0.5", NEWSFACTS_WAREHOUSE=str(tmp_path / "w.duckdb"))
    out = subprocess.run([sys.executable, "-m", "newsfacts.cli", "run", "--source", str(SEEDS)], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "did not answer within 0.5 s" in out.stderr and "NEWSFACTS_PREFECT_STARTUP_TIMEOUT" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_first_run_with_an_empty_prefect_home(tmp_path, gazetteer_path):
    """A new user's first `newsfacts run`: Prefect's database does not exist yet and must be created."""
    wh = tmp_path / "w.duckdb"
    env = _fresh_env(tmp_path, NEWSFACTS_WAREHOUSE=str(wh), NEWSFACTS_GAZETTEER=str(gazetteer_path))
    out = subprocess.run([sys.executable, "-m", "newsfacts.cli", "run", "--source", str(SEEDS)], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "newsfacts run complete" in out.stdout and "loaded 5" in out.stdout
    assert (tmp_path / "empty-prefect-home" / "prefect.db").exists()
    assert "Error logging to API" not in out.stdout + out.stderr
    assert duckdb.connect(str(wh), read_only=True).execute("select count(*) from documents").fetchone() == (5,)
