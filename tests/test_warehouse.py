"""The SQL model runner and atomic publishing, on real DuckDB files."""

from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest
from newsfacts import warehouse


def _write(path, sql):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)


def _head_and_tail_models(tmp_path):
    """An intermediate model, a mart reading it, an intermediate model reading the mart, a view over that."""
    sql = tmp_path / "sql"
    for name, text in {"intermediate/a_int": "select 1 as x", "marts/b_mart": "select x * 10 as y from a_int",
                       "intermediate/c_int": "select y + 1 as z from b_mart",
                       "views/d_view": "select z from c_int"}.items():
        _write(sql / f"{name}.sql", text)
    return sql


def test_models_run_in_dependency_order(tmp_path):
    sql = tmp_path / "sql"
    _write(sql / "marts" / "a_mart.sql", "with src as (select * from z_int) select x * 10 as y from src")
    _write(sql / "intermediate" / "z_int.sql", "select x + 1 as x from b_stage")
    _write(sql / "staging" / "b_stage.sql", "select 1 as x")
    _write(sql / "views" / "v_total.sql", "select sum(y) as total from a_mart")
    names = [n for n, _, _ in warehouse.discover_models(sql)]
    assert names.index("b_stage") < names.index("z_int") < names.index("a_mart") < names.index("v_total")
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.run_models(con, sql)
    assert con.execute("select total from v_total").fetchone() == (20,)


def test_head_models_run_outside_the_transaction_and_tail_models_inside(tmp_path):
    """The flow commits the unpublished models that read no mart before its transaction ("head"), so a
    large corpus's candidate rows are not pinned in memory; an intermediate that reads a mart stays in the tail."""
    sql = _head_and_tail_models(tmp_path)
    con = warehouse.connect(tmp_path / "w.duckdb")
    assert warehouse.run_models(con, sql, "head") == ["a_int"]
    con.execute("begin")
    assert warehouse.run_models(con, sql, "tail") == ["b_mart", "c_int", "d_view"]
    con.execute("rollback")
    assert con.execute("select x from a_int").fetchone() == (1,)
    assert not con.execute("select * from duckdb_tables() where table_name = 'b_mart'").fetchall()


def test_head_models_live_in_the_intermediate_file_and_the_tail_reads_them(tmp_path):
    """With the intermediate file attached, the models that read no mart are built there (so publishing,
    a copy of the working database, never copies them) and the marts and views still read them by name; an
    intermediate model that reads a mart stays in the working database, inside the marts' transaction."""
    sql = _head_and_tail_models(tmp_path)
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.attach_intermediate(con, tmp_path / "i.duckdb")
    warehouse.run_models(con, sql, "head")
    con.execute("begin")
    warehouse.run_models(con, sql, "tail")
    con.execute("commit")
    where = dict(con.execute("select table_name, database_name from duckdb_tables()").fetchall())
    assert where["a_int"] == "intermediate" and where["b_mart"] == where["c_int"] == "w"
    assert con.execute("select z from d_view").fetchone() == (11,)
    assert warehouse.intermediate_models(sql) == ["a_int"]
    con.close()
    published = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert published.execute("select z from d_view").fetchone() == (11,)  # the view needs no intermediate


def test_an_intermediate_model_that_reads_no_mart_is_in_the_head_wherever_it_sorts(tmp_path):
    """The head is every staging or intermediate model that reads no mart, directly or through another model,
    not only those ordered before the first mart: one that sorts after a mart-reading model is still built in
    the intermediate file, outside the marts' transaction, and never published."""
    sql = _head_and_tail_models(tmp_path)
    _write(sql / "intermediate" / "e_int.sql", "select x + 2 as w from a_int")
    _write(sql / "intermediate" / "f_int.sql", "select z, w from c_int, e_int")
    names = [n for n, _, _ in warehouse.discover_models(sql)]
    assert names.index("b_mart") < names.index("e_int")  # it runs after a mart in the dependency order
    assert warehouse.intermediate_models(sql) == ["a_int", "e_int"]
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.attach_intermediate(con, tmp_path / "i.duckdb")
    assert warehouse.run_models(con, sql, "head") == ["a_int", "e_int"]
    con.execute("begin")
    assert warehouse.run_models(con, sql, "tail") == ["b_mart", "c_int", "f_int", "d_view"]
    con.execute("commit")
    where = dict(con.execute("select table_name, database_name from duckdb_tables()").fetchall())
    assert where["e_int"] == "intermediate" and where["f_int"] == "w"
    assert con.execute("select z, w from f_int").fetchone() == (11, 3)


def test_intermediate_models_a_working_database_still_holds_move_out_once(tmp_path):
    """A working database from before the intermediate file loses its intermediate model tables, and its file
    is compacted (DuckDB never gives freed blocks back); the other tables keep their rows and their keys."""
    sql = tmp_path / "sql"
    _write(sql / "intermediate" / "a_int.sql", "select 1 as x")
    _write(sql / "marts" / "b_mart.sql", "select x from a_int")
    path = tmp_path / "working.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table kept (k varchar primary key, v int)")
    con.execute("insert into kept values ('a', 1), ('b', 2)")
    con.execute("create table a_int as select range as x, md5(range::varchar) as y from range(400000)")
    con.close()
    before = path.stat().st_size
    assert warehouse.move_intermediate_out(path, sql) == ["a_int"]
    assert path.stat().st_size < before / 3
    con = duckdb.connect(str(path))
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'a_int'").fetchone() == (0,)
    assert con.execute("select sum(v) from kept").fetchone() == (3,)
    with pytest.raises(duckdb.ConstraintException):
        con.execute("insert into kept values ('a', 3)")
    con.close()
    assert warehouse.move_intermediate_out(path, sql) == []


def test_an_incremental_model_reads_its_whole_inputs_for_every_document_and_the_rest_for_those_built(tmp_path):
    """``whole=`` names the inputs a per-document model reads for every document (a source's other
    documents); its other inputs hold only the documents being rebuilt, and only those get new rows."""
    sql = tmp_path / "sql"
    _write(sql / "intermediate" / "m_source_total.sql", """-- config: materialized=incremental whole=t_docs,t_counts
        with per_source as (
            select d.source, sum(c.n) as total from t_counts as c inner join t_docs as d using (doc_id) group by all
        )
        select i.doc_id, p.total, (select count(*) from t_items) as items_read
        from t_items as i inner join t_docs as d using (doc_id) inner join per_source as p using (source)""")
    con = warehouse.connect(tmp_path / "w.duckdb")
    con.execute("create table t_docs (doc_id varchar, source varchar); create table t_counts (doc_id varchar, n int);"
                "create table t_items (doc_id varchar)")

    def add(doc_id, source, n):
        con.execute("insert into t_docs values (?, ?)", [doc_id, source])
        con.execute("insert into t_counts values (?, ?)", [doc_id, n])
        con.execute("insert into t_items values (?)", [doc_id])
        con.execute("insert into pending_transform values (?)", [doc_id])

    for row in (("d1", "A", 1), ("d2", "A", 2), ("d3", "B", 5)):
        add(*row)
    warehouse.run_models(con, sql, incremental=True)
    con.execute("delete from pending_transform")
    add("d4", "A", 10)
    warehouse.run_models(con, sql, incremental=True)
    rows = con.execute("select doc_id, total, items_read from m_source_total order by doc_id").fetchall()
    # d4 sees all of source A (1 + 2 + 10) but only its own item; d1 and d2 keep the rows built before it came.
    assert rows == [("d1", 3, 3), ("d2", 3, 3), ("d3", 5, 3), ("d4", 13, 1)]
    # A misspelt whole= name would silently shadow the input it meant: the runner refuses it.
    model = sql / "intermediate" / "m_source_total.sql"
    model.write_text(model.read_text().replace("whole=t_docs,t_counts", "whole=t_docs,t_count"))
    with pytest.raises(RuntimeError, match="whole= names tables it does not read: t_count"):
        warehouse.run_models(con, sql, incremental=True)


def test_a_per_document_model_rebuilds_old_documents_whose_rows_in_a_whole_model_changed(tmp_path):
    """A whole-rebuilt model keyed by document (actors keyed across documents) can change an old document's
    rows when a new one arrives; the per-document models reading it rebuild that document too, and the
    result is what a full rebuild gives."""
    sql = tmp_path / "sql"
    _write(sql / "intermediate" / "k_keys.sql", """
        with full_names as (select surname, count(distinct name) as n, min(name) as name
                            from t_mentions where name like '% %' group by surname)
        select m.doc_id, m.pos, case when f.n = 1 then f.name else m.name end as key
        from t_mentions as m left join full_names as f using (surname)""")
    _write(sql / "marts" / "f_mentions.sql", """-- config: materialized=incremental
        select m.doc_id, m.pos, k.key, d.title from t_mentions as m
        inner join k_keys as k using (doc_id, pos) inner join t_docs as d using (doc_id)""")
    # reads no key: `seen` is how many documents its build of a document was given
    _write(sql / "marts" / "g_other.sql", """-- config: materialized=incremental
        select doc_id, (select count(*) from t_docs) as seen from t_docs""")
    con = warehouse.connect(tmp_path / "w.duckdb")
    con.execute("create table t_docs (doc_id varchar, title varchar);"
                "create table t_mentions (doc_id varchar, pos int, name varchar, surname varchar)")

    def add(doc_id, *names):
        con.execute("insert into t_docs values (?, ?)", [doc_id, doc_id.upper()])
        for pos, name in enumerate(names):
            con.execute("insert into t_mentions values (?, ?, ?, ?)", [doc_id, pos, name, name.split()[-1]])
        con.execute("insert into pending_transform values (?)", [doc_id])

    def rows():
        return con.execute("select * from f_mentions order by all").fetchall()

    add("d1", "Saban")
    add("d2", "Ford")
    warehouse.run_models(con, sql, incremental=True)
    con.execute("delete from pending_transform")
    assert rows() == [("d1", 0, "Saban", "D1"), ("d2", 0, "Ford", "D2")]
    add("d3", "Nick Saban")
    warehouse.run_models(con, sql, "head", incremental=True)
    # the head lists d1 (its mention now has Nick Saban's key) for the tail and for the gates
    assert sorted(d for (d,) in con.execute("select doc_id from pending_transform").fetchall()) == ["d1", "d3"]
    warehouse.run_models(con, sql, "tail", incremental=True)
    con.execute("delete from pending_transform")
    assert rows() == [("d1", 0, "Nick Saban", "D1"), ("d2", 0, "Ford", "D2"), ("d3", 0, "Nick Saban", "D3")]
    # a second full name for the surname takes d1's key back; only the models that read the keys rebuild d1,
    # and each gate is given what was rebuilt in its table; a full rebuild agrees
    add("d4", "Terry Saban")
    warehouse.run_models(con, sql, incremental=True)
    incremental = rows()
    assert ("d1", 0, "Saban", "D1") in incremental
    assert con.execute("select doc_id, seen from g_other order by 1").fetchall() == [
        ("d1", 2), ("d2", 2), ("d3", 2), ("d4", 1)]
    assert warehouse.rebuilt_documents(con, sql, ["f_mentions", "g_other"]) == {
        "f_mentions": ["d1", "d4"], "g_other": ["d4"]}
    con.execute("drop table f_mentions; insert into pending_transform select doc_id from t_docs")
    warehouse.run_models(con, sql, incremental=True)
    assert rows() == incremental
    assert not con.execute("select count(*) from duckdb_tables() where table_name like '_nf_prev_%'").fetchone()[0]
    # with the whole model gone (its old rows unknown), every document is rebuilt downstream
    con.execute("delete from pending_transform; drop table k_keys")
    warehouse.run_models(con, sql, "head", incremental=True)
    assert con.execute("select count(distinct doc_id) from pending_transform").fetchone()[0] == 4


def test_cycles_are_refused(tmp_path):
    sql = tmp_path / "sql"
    _write(sql / "intermediate" / "m1.sql", "select * from m2")
    _write(sql / "intermediate" / "m2.sql", "select * from m1")
    with pytest.raises(ValueError, match="cycle"):
        warehouse.discover_models(sql)


def test_replace_rows_is_idempotent(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table t (doc_id varchar, v int)")
    df = pd.DataFrame({"doc_id": ["a", "a", "b"], "v": [1, 2, 3]})
    warehouse.replace_rows(con, "t", df)
    warehouse.replace_rows(con, "t", df)
    assert con.execute("select count(*) from t").fetchone() == (3,)


def test_publish_swaps_while_a_reader_holds_the_old_snapshot(tmp_path):
    work, pub = tmp_path / "work.duckdb", tmp_path / "pub.duckdb"
    con = duckdb.connect(str(work))
    con.execute("create table t as select 1 as v")
    con.close()
    warehouse.publish(work, pub)
    reader = duckdb.connect(str(pub), read_only=True)
    con = duckdb.connect(str(work))
    con.execute("insert into t values (2)")
    con.close()
    warehouse.publish(work, pub)
    assert reader.execute("select count(*) from t").fetchone() == (1,)
    reader.close()
    fresh = duckdb.connect(str(pub), read_only=True)
    assert fresh.execute("select count(*) from t").fetchone() == (2,)


def test_the_working_database_caps_duckdbs_memory(tmp_path, monkeypatch, gazetteer_path):
    """The run's writer opens DuckDB with the configured buffer pool (DuckDB's own default is 80 % of RAM)."""
    from newsfacts.config import Settings
    from newsfacts.runs import open_working

    monkeypatch.setenv("NEWSFACTS_DUCKDB_MEMORY", "300MB")
    settings = Settings().with_overrides(warehouse=str(tmp_path / "w.duckdb"))
    con = open_working(settings)
    try:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    assert limit.replace(" ", "") in ("286.1MiB", "300.0MB"), limit


def test_opening_a_working_database_that_holds_intermediate_models_moves_them_out(tmp_path, gazetteer_path):
    """The run's writer finds a toponym intermediate model inside the working database (a warehouse from before
    the intermediate file): it is dropped there, the file compacted, and the intermediate file attached."""
    from newsfacts.config import Settings
    from newsfacts.runs import open_working

    settings = Settings().with_overrides(warehouse=str(tmp_path / "w.duckdb"), gazetteer=str(gazetteer_path))
    settings.working_db.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.working_db))
    con.execute("create table int_toponym_candidates as select range as doc_id from range(300000)")
    con.close()
    before = settings.working_db.stat().st_size
    con = open_working(settings)
    try:
        where = {(d, t) for d, t in con.execute("select database_name, table_name from duckdb_tables()").fetchall()}
        assert ("working", "int_toponym_candidates") not in where and ("working", "documents") in where
        assert con.execute("select count(*) from duckdb_databases() where database_name = 'intermediate'"
                           ).fetchone() == (1,)
    finally:
        con.close()
    assert settings.working_db.stat().st_size < before


def test_cooccurrence_never_copies_a_body_per_pair(tmp_path):
    """The sentences of the actor-place co-occurrence mart are cut from each body once (int_place_sentences):
    400 documents of 100 KB with many pairs build within a 200 MB buffer pool (a plan that carried the body
    through its joins needed gigabytes), and the mart joins the cut sentences, never a body."""
    from pathlib import Path

    sql = Path(__file__).resolve().parents[1] / "sql"
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "200MB", "threads": 2})
    con.execute("create table documents as select 'd' || i as doc_id, 'd' || i as story_id, "
                "repeat('Word and more words here. ', 4000) as body from range(400) t(i)")
    con.execute("create table sentences as select doc_id, s as sentence_idx, s * 26 as start_char, "
                "s * 26 + 25 as end_char from documents, range(40) r(s)")
    con.execute("create table toponym_mentions as select doc_id, sentence_idx from sentences")
    con.execute("create table fact_actor_mention as select doc_id, 'a' || (sentence_idx % 3) as actor_id, "
                "sentence_idx from sentences, range(2)")
    con.execute("create table fact_location_mention as select doc_id, 'l' || (sentence_idx % 4) as location_id, "
                "sentence_idx from sentences")
    con.execute(f"create table int_place_sentences as {(sql / 'intermediate' / 'int_place_sentences.sql').read_text()}")
    mart = (sql / "marts" / "fact_actor_location_cooccurrence.sql").read_text()
    assert "body" not in warehouse._strip_comments(mart)
    con.execute(f"create table cooc as {mart}")
    assert con.execute("select count(*), min(sentence), max(sentence) from cooc").fetchone() == (
        400 * 40, "Word and more words here.", "Word and more words here.")


def test_every_cooccurrence_sentence_is_the_text_of_its_sentence_span(seeds_warehouse):
    """On the seeds run through the real pipeline, each actor-place pair carries its sentence's text, taken from
    int_place_sentences: no pair's sentence is missing, none differs from cutting the body at its span."""
    con = duckdb.connect(str(seeds_warehouse), read_only=True)
    total, with_text, same = con.execute(
        "select count(*), count(c.sentence), count(*) filter (where c.sentence = "
        "substr(d.body, s.start_char + 1, s.end_char - s.start_char)) "
        "from fact_actor_location_cooccurrence as c "
        "inner join sentences as s on s.doc_id = c.doc_id and s.sentence_idx = c.sentence_idx "
        "inner join documents as d on d.doc_id = c.doc_id").fetchone()
    con.close()
    assert total > 0 and with_text == total and same == total


def _run(path, run_id: str, docs: dict[str, str], removed: tuple[str, ...] = ()):
    """One 'run' on a working file: write the documents' bodies (and a whole-rebuilt table), list them as changed,
    record the publish as the flow does."""
    con = warehouse.connect(path)
    keys = list(docs) + list(removed)
    frame = pd.DataFrame([dict(doc_id=d, content_hash=d, source_uri=f"{d}.txt", body=b, run_id=run_id,
                               pipeline_version="t", cleaned_at=pd.Timestamp("2026-01-01")) for d, b in docs.items()])
    warehouse.replace_rows(con, "documents", frame, keys=keys)
    warehouse.replace_rows(con, "story_signatures", pd.DataFrame(
        [dict(doc_id=d, band=i, hash=len(b) + i) for d, b in docs.items() for i in range(3)]), keys=keys)
    con.execute("create or replace table dim_summary as "
                "select count(*) as documents, max(run_id) as last_run from documents")
    warehouse.append_rows(con, warehouse.PENDING, pd.DataFrame({"doc_id": keys}))
    warehouse.record_publish(con, run_id)
    con.execute(f"delete from {warehouse.PENDING}")
    con.close()


def _same(a, b) -> list[str]:
    """Tables whose rows differ between two warehouse files (both ways, duplicates counted)."""
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where database_name = 'a'").fetchall()]
    out = [t for t in tables if con.execute(
        f'select count(*) from (select * from a."{t}" except all select * from b."{t}") union all '
        f'select count(*) from (select * from b."{t}" except all select * from a."{t}")').fetchall() != [(0,), (0,)]]
    con.close()
    return out


def test_publishing_rewrites_only_what_changed_in_the_standby_copy(tmp_path):
    """The published path is a hard link to one of two copies; the other is brought up to date by the documents
    stamped since its own publish and the whole tables, and ends equal to the working file, table by table."""
    work, pub = tmp_path / "work" / "working.duckdb", tmp_path / "pub.duckdb"
    work.parent.mkdir()
    docs = {f"d{i}": f"body {i}" for i in range(10)}
    _run(work, "r1", docs)
    assert warehouse.publish(work, pub)["mode"] == "copy"           # no earlier copy
    _run(work, "r2", {"d1": "body 1, corrected"})
    assert warehouse.publish(work, pub)["mode"] == "copy"           # the second copy is new too
    _run(work, "r3", {"d2": "body 2, corrected", "d10": "body 10"}, removed=("d3",))
    how = warehouse.publish(work, pub)
    assert how == {"mode": "documents", "documents": 4}              # d1 (since the standby's run 1), d2, d3, d10
    assert _same(work, pub) == []
    copies = {p.stat().st_ino for p in work.parent.glob("published-*.duckdb")}
    assert len(copies) == 2 and pub.stat().st_ino in copies
    con = duckdb.connect(str(pub), read_only=True)
    assert con.execute("select body from documents where doc_id = 'd1'").fetchone() == ("body 1, corrected",)
    assert con.execute("select count(*) from documents where doc_id = 'd3'").fetchone() == (0,)
    assert con.execute("select max(publish_seq) from publish_history").fetchone() == (3,)
    con.close()
    # A file that holds fewer MiB than the settings give for the documents to rewrite is copied: cheaper.
    _run(work, "r3b", {"d2": "body 2, again"})
    assert warehouse.publish(work, pub, copy_mib=2.0, mib_per_document=1.0) == {
        "mode": "copy", "reason": "3 documents changed since that copy; the file (3 MiB) copies faster"}
    assert warehouse.publish(work, pub, copy_mib=2048.0) == {   # smaller than any update: the standby unopened
        "mode": "copy", "reason": "the file (3 MiB) copies faster than any update"}
    assert _same(work, pub) == []
    # More than half of the documents changed since the standby's run 3: a whole copy is cheaper.
    _run(work, "r4", {d: b + "!" for d, b in docs.items() if d != "d3"})
    assert warehouse.publish(work, pub) == {
        "mode": "copy", "reason": "9 documents changed since that copy, 10 in the warehouse"}
    assert _same(work, pub) == []


def test_publishing_never_writes_a_copy_a_reader_holds_and_copies_whole_when_the_schema_changed(tmp_path):
    work, pub = tmp_path / "work" / "working.duckdb", tmp_path / "pub.duckdb"
    work.parent.mkdir()
    _run(work, "r1", {f"d{i}": f"body {i}" for i in range(10)})
    warehouse.publish(work, pub)
    # An analyst's session in another process holds copy 1 open (DuckDB's file lock is per process).
    reader = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
         "print(con.execute('select max(publish_seq) from publish_history').fetchone()[0], flush=True); "
         "sys.stdin.read(); print(con.execute(\"select body from documents where doc_id = 'd1'\").fetchone()[0])",
         str(pub)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "1"
    _run(work, "r2", {"d1": "new"})
    warehouse.publish(work, pub)                                     # copy 2 published; copy 1 is the standby
    _run(work, "r3", {"d2": "new"})
    assert warehouse.publish(work, pub) == {"mode": "copy", "reason": "a reader holds the earlier copy"}
    out, _ = reader.communicate("", timeout=60)
    assert out.strip() == "body 1"                                   # the reader's snapshot, never written under
    assert _same(work, pub) == []
    con = duckdb.connect(str(work))
    con.execute("alter table documents add column extra varchar")
    con.close()
    _run(work, "r4", {"d4": "new"})
    assert warehouse.publish(work, pub) == {"mode": "copy", "reason": "the schema or the dictionary changed"}
    assert _same(work, pub) == []
    # A copy of another warehouse's history (here: the working file restored from an older state) is not updated.
    _run(work, "r5", {"d5": "new"})
    other = tmp_path / "other.duckdb"
    _run(other, "x1", {"d0": "elsewhere"})
    con = duckdb.connect(str(other))
    con.execute("alter table documents add column extra varchar")
    con.close()
    standby = next(p for p in work.parent.glob("published-*.duckdb") if p.stat().st_ino != pub.stat().st_ino)
    shutil.copyfile(other, standby)
    assert warehouse.publish(work, pub) == {
        "mode": "copy", "reason": "the copy is not an earlier state of this warehouse"}
    assert _same(work, pub) == []
    # A standby that cannot be updated at all (here: not a database) is replaced by a whole copy.
    _run(work, "r6", {"d6": "new"})
    standby = next(p for p in work.parent.glob("published-*.duckdb") if p.stat().st_ino != pub.stat().st_ino)
    standby.write_bytes(b"not a database" * 1000)
    how = warehouse.publish(work, pub)
    assert how["mode"] == "copy" and how["reason"].startswith("the update failed: "), how
    assert _same(work, pub) == []
