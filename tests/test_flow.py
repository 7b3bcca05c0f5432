"""The whole flow on the seeds through a real Prefect run, into a real DuckDB file."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from tests.conftest import SHARED

pytestmark = pytest.mark.slow
TABLES = ["raw_documents", "documents", "sentences", "entity_mentions", "toponym_mentions", "actor_mentions",
          "dim_actor", "fact_actor_mention", "dim_location", "fact_location_mention", "quarantine"]


@pytest.fixture(scope="module")
def seeded_run(tmp_path_factory, prefect_harness, gazetteer_path):
    """Run the flow twice over the seeds plus two bad files: the second run must change nothing."""
    from newsfacts.flow import newsfacts_flow

    tmp = tmp_path_factory.mktemp("flow")
    src = tmp / "inbox"
    import shutil

    from tests.conftest import SEEDS
    shutil.copytree(SEEDS, src)
    (src / "empty.txt").write_bytes(b"")
    (src / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    wh = tmp / "newsfacts.duckdb"
    first = newsfacts_flow(source=str(src), warehouse_path=str(wh))
    con = duckdb.connect(str(wh), read_only=True)
    counts_1 = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    con.close()
    second = newsfacts_flow(source=str(src), warehouse_path=str(wh))
    con = duckdb.connect(str(wh), read_only=True)
    counts_2 = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    con.close()
    return dict(wh=wh, first=first, second=second, counts_1=counts_1, counts_2=counts_2)


def test_run_accounts_for_every_input(seeded_run):
    first = seeded_run["first"]
    assert first["inputs"] == 7
    assert first["loaded"] == 5 and first["quarantined"] == 2
    con = duckdb.connect(str(seeded_run["wh"]), read_only=True)
    reasons = dict(con.execute("select regexp_extract(source_uri, '[^/]+$'), reason from quarantine").fetchall())
    assert "empty" in reasons["empty.txt"].lower() and "png" in reasons["photo.html"].lower()
    assert con.execute("select count(*) from dq_results where not success").fetchone()[0] == 0
    assert con.execute("select count(distinct table_name) from dq_results").fetchone()[0] >= 8


def test_second_run_is_idempotent(seeded_run):
    assert seeded_run["counts_2"] == seeded_run["counts_1"]
    second = seeded_run["second"]
    assert second["loaded"] == 0 and second["unchanged"] == 7 and second["quarantined"] == 0


def test_second_run_checks_stamps_instead_of_reading(seeded_run):
    """Every input of the second run is known by its stamp and never opened; the first run read them all.

    The second run changed nothing, so it published nothing: its rows are in the working database."""
    from newsfacts.config import Settings

    assert seeded_run["first"]["unread"] == 0 and seeded_run["second"]["unread"] == 7
    working = Settings().with_overrides(warehouse=str(seeded_run["wh"])).working_db
    con = duckdb.connect(str(working), read_only=True)
    runs = [r for (r,) in con.execute("select run_id from pipeline_runs order by started_at").fetchall()]
    stamps = [dict(con.execute("select source_uri, file_stamp from input_files where run_id = ?", [r]).fetchall())
              for r in runs[-2:]]
    con.close()
    assert len(stamps[1]) == 7 and None not in stamps[1].values()
    assert stamps[1] == stamps[0]


@pytest.mark.parametrize("area", ["clean", "locations", "actors", "stories"])
def test_seeds_gold_is_perfect(seeded_run, area):
    """Quality floor: the official scorer must find every area of the seeds gold perfect."""
    scorer = SHARED / "tools" / "score_seeds.py"
    out = subprocess.run([sys.executable, str(scorer), str(seeded_run["wh"]), "--strict", area],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_gold_people_and_capitals_are_in_the_marts(seeded_run, gold):
    con = duckdb.connect(str(seeded_run["wh"]), read_only=True)
    names = {n for (n,) in con.execute("select name from dim_actor where actor_type = 'person'").fetchall()}
    for doc in (v for k, v in gold.items() if not k.startswith("_")):
        for actor in doc["actors_required"]:
            if actor["type"] == "person":
                assert actor["name"] in names, actor["name"]
    located = {n for (n,) in con.execute(
        "select name from dim_location where latitude is not null and kind in ('country', 'city')").fetchall()}
    assert {"Ukraine", "Russia", "Moscow", "Kyiv", "Berlin"} <= located
