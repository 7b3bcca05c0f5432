"""Running newsfacts like production: analysts reading during runs, one writer, lineage catch-up,
backfills by stage and date, glob sources confined to their folders, and Dask = threads.

Every test drives the real flow (Prefect harness) over real DuckDB files.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from newsfacts import lock, sources
from newsfacts.config import Settings

from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow
TABLES = ["raw_documents", "documents", "sentences", "entity_mentions", "toponym_mentions", "actor_mentions",
          "dim_actor", "fact_actor_mention", "dim_location", "fact_location_mention", "quarantine"]
HELD_BACK = sorted(SEEDS.glob("*"))[-1].name


def counts(wh: Path) -> dict[str, int]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory, prefect_harness, gazetteer_path):
    """Four seeds published; the fifth waits in another folder to arrive later."""
    from newsfacts.flow import newsfacts_flow

    tmp = tmp_path_factory.mktemp("production")
    src, later = tmp / "inbox", tmp / "later"
    shutil.copytree(SEEDS, src)
    later.mkdir()
    shutil.move(src / HELD_BACK, later / HELD_BACK)
    wh = tmp / "newsfacts.duckdb"
    first = newsfacts_flow(source=str(src), warehouse_path=str(wh))
    return dict(src=src, later=later, wh=wh, first=first, settings=Settings().with_overrides(warehouse=wh))


def test_analyst_keeps_reading_during_a_run_and_sees_new_data_after_reconnecting(base):
    from newsfacts.flow import newsfacts_flow

    analyst = duckdb.connect(str(base["wh"]), read_only=True)
    before = analyst.execute("select count(*) from documents").fetchone()[0]
    assert before == 4
    shutil.copy(base["later"] / HELD_BACK, base["src"] / HELD_BACK)
    summary = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]))
    assert summary["published"] and summary["loaded"] == 1
    # The open connection still reads its snapshot, unblocked and unchanged...
    assert analyst.execute("select count(*) from documents").fetchone()[0] == before
    assert analyst.execute("select count(*) from fact_location_mention").fetchone()[0] > 0
    analyst.close()
    # ...and a new connection sees the new run.
    again = duckdb.connect(str(base["wh"]), read_only=True)
    assert again.execute("select count(*) from documents").fetchone()[0] == 5
    again.close()


def test_an_unchanged_run_publishes_nothing(base):
    from newsfacts.flow import newsfacts_flow

    before = digest(base["wh"])
    summary = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]))
    assert not summary["published"] and summary["loaded"] == 0 and summary["unchanged"] == summary["inputs"]
    assert digest(base["wh"]) == before
    # Nothing new: no gate ran (an empty batch costs no GX work) and none was recorded.
    assert summary["gates"] == []
    con = duckdb.connect(str(base["settings"].working_db), read_only=True)
    try:
        assert con.execute("select count(*) from dq_results where run_id = ?", [summary["run_id"]]).fetchone()[0] == 0
    finally:
        con.close()


def _upgrade_leftovers(base, column: str, old: str) -> tuple[dict, list]:
    """What an upgrade leaves behind: two documents stamped ``column = old``. Runs the flow over the same
    source; returns its summary and the distinct values of ``column`` in the published warehouse, after
    checking that the recomputed warehouse holds the same rows as before."""
    from newsfacts.flow import newsfacts_flow

    expected = counts(base["wh"])
    con = duckdb.connect(str(base["settings"].working_db))
    con.execute(f"update documents set {column} = ? where doc_id in "
                "(select doc_id from documents order by doc_id limit 2)", [old])
    con.close()
    summary = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]))
    assert summary["published"] and counts(base["wh"]) == expected
    con = duckdb.connect(str(base["wh"]), read_only=True)
    values = con.execute(f"select distinct {column} from documents").fetchall()
    con.close()
    return summary, values


def test_rows_from_another_ner_model_are_recomputed_and_restamped(base):
    from newsfacts.runs import ner_model_version

    summary, models = _upgrade_leftovers(base, "ner_model", "en_core_web_sm==3.7.1")
    assert summary["reextracted"] == 2 and summary["recleaned"] == 0
    assert models == [(ner_model_version(base["settings"].spacy_model),)]


def test_documents_an_older_pipeline_version_made_are_recleaned(base):
    """An upgrade whose cleaning or extraction changed output raises PIPELINE_VERSION: the next run recomputes
    the documents the older version made, so the warehouse never mixes two versions' rows."""
    import tomllib

    from newsfacts.config import PIPELINE_VERSION

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == PIPELINE_VERSION
    summary, versions = _upgrade_leftovers(base, "pipeline_version", "0.0.1")
    assert summary["recleaned"] == 2
    assert versions == [(PIPELINE_VERSION,)]


def test_transform_only_backfill_rebuilds_and_publishes_without_reading_inputs(base):
    from newsfacts.flow import newsfacts_flow
    from prefect import get_client

    expected = counts(base["wh"])
    # No source at all: a transform-only run reads none, so not even a missing default folder matters.
    state = newsfacts_flow(source=str(base["src"] / "no-such-folder"), warehouse_path=str(base["wh"]),
                           stages=["transform"], return_state=True)
    summary = state.result()
    assert summary["inputs"] == 0 and summary["published"]
    assert "transform" in summary["stage_seconds"] and "ingest" not in summary["stage_seconds"]
    assert counts(base["wh"]) == expected
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(state.state_details.flow_run_id).name
    assert name == "newsfacts · transform · stored documents, no source read"
    con = duckdb.connect(str(base["settings"].working_db), read_only=True)
    try:
        assert con.execute("select source from pipeline_runs where run_id = ?",
                           [summary["run_id"]]).fetchone() == (None,)
    finally:
        con.close()


def test_backfill_by_ingest_date_recleans_exactly_that_range(base):
    from newsfacts.flow import newsfacts_flow

    con = duckdb.connect(str(base["wh"]), read_only=True)
    day, n = con.execute("select ingested_at::date d, count(*) from raw_documents r join documents using "
                         "(content_hash) group by d order by d limit 1").fetchone()
    con.close()
    expected = counts(base["wh"])
    summary = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]),
                             stages=["clean", "entities", "transform"], ingested_from=day, ingested_to=day)
    assert summary["recleaned"] == n and summary["reextracted"] == 0  # cleaning already re-extracted them
    assert counts(base["wh"]) == expected
    nothing = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]),
                             stages=["clean", "entities", "transform"], published_from=date(1990, 1, 1),
                             published_to=date(1990, 1, 2))
    assert nothing["recleaned"] == 0 and nothing["reextracted"] == 0


def test_publishing_rewrites_the_changed_documents_and_leaves_the_working_files_rows(base, monkeypatch):
    """After the runs above (whole copies and updates of the standby copy), and after two runs that recompute
    one document, the published file holds exactly the working file's rows, table by table; the second of
    those runs rewrote that one document in the standby copy instead of copying the warehouse."""
    from newsfacts.flow import newsfacts_flow

    for setting in ("NEWSFACTS_PUBLISH_COPY_MIB", "NEWSFACTS_PUBLISH_MIB_PER_DOCUMENT"):
        monkeypatch.setenv(setting, "0")  # the seeds' file is small: copied whole by default
    for _ in range(2):
        con = duckdb.connect(str(base["settings"].working_db))
        con.execute("update documents set ner_model = 'en_core_web_sm==3.7.1' where doc_id = "
                    "(select min(doc_id) from documents)")
        con.close()
        summary = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]))
        assert summary["published"] and summary["reextracted"] == 1
    assert summary["publish_mode"] == "the standby copy updated, documents rewritten: 1"
    con = duckdb.connect()
    con.execute(f"attach '{base['wh']}' as p (read_only)")
    con.execute(f"attach '{base['settings'].working_db}' as w (read_only)")
    tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where database_name = 'w' "
                                        "and schema_name = 'main'").fetchall()]
    assert "fact_location_mention" in tables and "publish_history" in tables
    for t in tables:
        assert con.execute(f'select count(*) from (select * from w.main."{t}" except all select * from p.main."{t}") '
                           f'union all select count(*) from (select * from p.main."{t}" except all '
                           f'select * from w.main."{t}")').fetchall() == [(0,), (0,)], t
    con.close()


def test_date_selection_is_inclusive_and_parameterised():
    from newsfacts.runs import Selection

    con = duckdb.connect()
    con.execute("create table raw_documents as select * from (values ('a', timestamp '2026-03-01 23:59'), "
                "('b', timestamp '2026-03-02 00:00'), ('c', timestamp '2026-03-03 08:00')) t(content_hash, "
                "ingested_at)")
    con.execute("create table documents as select * from (values ('a', '2025-12-31'), ('b', 'not a date'), "
                "('c', '2026-01-01')) t(content_hash, published_date)")

    def picked(sel: Selection) -> list[str]:
        where, params = sel.where()
        return [h for (h,) in con.execute(f"select content_hash from documents d join raw_documents r using "
                                          f"(content_hash) where {where} order by 1", params).fetchall()]

    assert picked(Selection()) == ["a", "b", "c"]
    assert picked(Selection(ingested_from=date(2026, 3, 2), ingested_to=date(2026, 3, 2))) == ["b"]
    assert picked(Selection(ingested_to=date(2026, 3, 1))) == ["a"]
    assert picked(Selection(published_from=date(2026, 1, 1))) == ["c"]
    assert picked(Selection(published_to=date(2025, 12, 31))) == ["a"]


def test_a_second_writer_gets_a_clear_message_and_changes_nothing(base):
    from newsfacts.flow import newsfacts_flow

    before = digest(base["wh"])
    with lock.writer_lock(base["settings"].work_dir, "test-holder"):
        state = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]), force=True,
                               return_state=True)
    # An overlap is a normal event: the run ends Cancelled with the reason, not Failed.
    assert state.is_cancelled(), state
    assert "skipped: another newsfacts run is writing this warehouse" in state.message
    assert digest(base["wh"]) == before


def _held(lock_file: Path) -> bool:
    """Whether some run holds the writer lock now, read from /proc/locks without touching the lock."""
    if not lock_file.exists():
        return False
    inode = f":{lock_file.stat().st_ino} "
    return any("FLOCK" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def test_two_concurrent_runs_one_waits_out_no_corruption(base):
    from newsfacts.flow import newsfacts_flow

    expected = counts(base["wh"])
    outcome: dict = {}

    def first_run():
        # One document per batch keeps the first run writing long enough for the second to collide with it.
        outcome["first"] = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]), force=True,
                                          batch_size=1)

    runner = threading.Thread(target=first_run)
    runner.start()
    lock_file = base["settings"].work_dir / "writer.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "test-2nd" not in outcome:
        if _held(lock_file) and runner.is_alive():
            state = newsfacts_flow(source=str(base["src"]), warehouse_path=str(base["wh"]), force=True,
                                   return_state=True)
            outcome["second"] = state.message if state.is_cancelled() else "ran"
            outcome["test-2nd"] = True
        time.sleep(0.05)
    runner.join(timeout=600)
    assert "another newsfacts run is writing" in outcome.get("second", "")
    assert outcome["first"]["published"] and counts(base["wh"]) == expected


def test_glob_sources_pick_matching_files_only(base, tmp_path):
    from newsfacts.flow import newsfacts_flow

    wh = tmp_path / "w.duckdb"
    pattern = str(base["src"] / "00[01]_*")
    summary = newsfacts_flow(source=pattern, warehouse_path=str(wh))
    assert summary["inputs"] == 2 and summary["loaded"] == 2


def test_sources_never_escape_the_allowed_folders(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    assert sources.resolve("a/*.html", (root,)) == ((root / "a").resolve(), "*.html")
    assert sources.resolve(str(root / "a"), (root,)) == ((root / "a").resolve(), None)
    for bad in (str(tmp_path / "outside"), "../outside", "a/../../outside", str(root / "*" / ".." / "..")):
        with pytest.raises(sources.SourceRefused):
            sources.resolve(bad, (root,))
    (root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(sources.SourceRefused, match="outside the allowed source folders"):
        sources.resolve("link", (root,))
    assert sources.matches(str(root / "a" / "x.html"), root, "a/*.html")
    assert not sources.matches(str(root / "b" / "x.html"), root, "a/*.html")


def test_dask_runner_produces_the_same_warehouse_as_threads(prefect_harness, gazetteer_path, tmp_path):
    from newsfacts.flow import configured_flow

    src = tmp_path / "inbox"
    shutil.copytree(SEEDS, src)
    results = {}
    for runner in ("threads", "dask"):
        wh = tmp_path / f"{runner}.duckdb"
        settings = Settings(task_runner=runner, workers=2)
        results[runner] = configured_flow(settings)(source=str(src), warehouse_path=str(wh))
        assert results[runner]["published"]
    assert_same_tables(tmp_path / "threads.duckdb", tmp_path / "dask.duckdb", "the thread and Dask runs")


VOLATILE = {"documents": "run_id, cleaned_at, entities_run_id"}


def assert_same_tables(left: Path, right: Path, what: str, tables: list[str] | None = None) -> None:
    """Both warehouses hold the same rows (as multisets) in every table, run stamps aside and doubles to 9
    places (a sum over a document's places may add in another order)."""
    con = duckdb.connect(str(left), read_only=True)
    con.execute(f"attach '{right}' as d (read_only)")
    for table in tables or ["documents", "sentences", "entity_mentions", "toponym_mentions", "actor_mentions",
                            "dim_actor", "fact_actor_mention", "dim_location", "fact_location_mention"]:
        skip = {c.strip() for c in VOLATILE.get(table, "").split(",")}
        cols = ", ".join(f"round({c}, 9) as {c}" if ty == "DOUBLE" else c for c, ty in con.execute(
            f"select column_name, column_type from (describe {table})").fetchall() if c not in skip)
        for a, b in ((table, f"d.{table}"), (f"d.{table}", table)):
            diff = con.execute(f"select count(*) from (select {cols} from {a} except all select {cols} from {b})"
                               ).fetchone()[0]
            assert diff == 0, f"{table}: {diff} rows differ between {what}"
    con.close()


def test_an_incremental_transform_builds_what_a_full_one_builds(prefect_harness, gazetteer_path, tmp_path):
    """Documents arriving in a later run get the per-document models built for them alone; the warehouse
    ends as one run over all of them would leave it, and the pending queue is empty."""
    from newsfacts.flow import newsfacts_flow

    src, once = tmp_path / "inbox", tmp_path / "once"
    shutil.copytree(SEEDS, src)
    shutil.copytree(SEEDS, once)
    later = sorted(src.glob("*"))[-2:]
    aside = tmp_path / "aside"
    aside.mkdir()
    for f in later:
        shutil.move(f, aside / f.name)
    wh, wh_once = tmp_path / "incremental.duckdb", tmp_path / "once.duckdb"
    newsfacts_flow(source=str(src), warehouse_path=str(wh))
    for f in later:
        shutil.move(aside / f.name, src / f.name)
    second = newsfacts_flow(source=str(src), warehouse_path=str(wh))
    assert second["published"] and second["loaded"] == 2
    newsfacts_flow(source=str(once), warehouse_path=str(wh_once))
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("select count(*) from pending_transform").fetchone()[0] == 0
    con.close()
    assert_same_tables(wh, wh_once, "two runs and one", [
        "int_actor_doc_keys", "fact_location_mention", "dim_location", "unresolved_toponym",
        "fact_actor_mention", "dim_actor", "fact_actor_location_cooccurrence"])
    intermediate = [Settings().with_overrides(warehouse=str(w)).intermediate_db for w in (wh, wh_once)]
    assert_same_tables(*intermediate, "two runs and one (intermediate models)", [
        "int_toponym_candidates", "int_toponym_features", "int_toponym_resolved"])


def test_a_first_run_with_only_bad_inputs_publishes_empty_marts(prefect_harness, gazetteer_path, tmp_path):
    """No document at all: the per-document models are still created (empty), so the marts build and publish."""
    from newsfacts.flow import newsfacts_flow

    src = tmp_path / "inbox"
    src.mkdir()
    (src / "garbage.txt").write_bytes(b"\x00\x01\x02\x03")
    wh = tmp_path / "newsfacts.duckdb"
    result = newsfacts_flow(source=str(src), warehouse_path=str(wh))
    assert result["published"] and result["quarantined"] == 1 and result["documents"] == 0
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("select count(*) from fact_location_mention").fetchone()[0] == 0
    con.execute(f"attach '{Settings().with_overrides(warehouse=str(wh)).intermediate_db}' as i (read_only)")
    assert con.execute("select count(*) from i.int_toponym_candidates").fetchone()[0] == 0
    con.close()
