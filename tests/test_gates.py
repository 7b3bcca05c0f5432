"""Every gate passes on good data and fails, naming table and expectation, on planted bad data."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
from newsfacts import gates, warehouse
from newsfacts.config import ROOT

EXPECTATIONS = ROOT / "expectations"
NOW = datetime(2026, 1, 1)
BODY = "Putin spoke in Kyiv.\nZelensky replied."


@pytest.fixture
def con(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    raw = pd.DataFrame([dict(content_hash="a" * 64, source_uri="x.txt", size_bytes=3, media_type="text",
                             detected_encoding="utf-8", stored_bytes=23, ingested_at=NOW, run_id="r",
                             pipeline_version="t")])
    warehouse.append_rows(con, "raw_documents", raw)
    doc = dict(doc_id="a" * 16, content_hash="a" * 64, source_uri="x.txt", title="T", body=BODY, language="en",
               story_id="a" * 16, cleaned_at=NOW, run_id="r", pipeline_version="t")
    warehouse.append_rows(con, "documents", pd.DataFrame([doc]))
    warehouse.append_rows(con, "sentences", pd.DataFrame([
        dict(doc_id="a" * 16, sentence_idx=0, paragraph_idx=0, start_char=0, end_char=20),
        dict(doc_id="a" * 16, sentence_idx=1, paragraph_idx=1, start_char=21, end_char=38)]))
    warehouse.append_rows(con, "entity_mentions", pd.DataFrame([
        dict(doc_id="a" * 16, mention_id=0, start_char=0, end_char=5, surface="Putin", label="PERSON",
             sentence_idx=0, source="ner", ner_model="m")]))
    warehouse.append_rows(con, "toponym_mentions", pd.DataFrame([
        dict(doc_id="a" * 16, start_char=15, end_char=19, surface="Kyiv", sentence_idx=0, source="ner")]))
    con.execute("""create table dim_location as select 'L1' as location_id, 'Kyiv' as name, 'city' as kind,
                   703448 as geonameid, null::varchar as iso3166_2, 'UA' as country_code,
                   50.45::double as latitude, 30.52::double as longitude""")
    con.execute("""create table fact_location_mention as select 'aaaaaaaaaaaaaaaa' as doc_id, 'L1' as location_id,
                   15 as start_char, 19 as end_char, 'Kyiv' as surface""")
    return con


def _validate(con, tmp_path, table, keys=None):
    return gates.validate(con, table, "test", "r", EXPECTATIONS, tmp_path, keys)


def test_good_batches_pass(con, tmp_path):
    for table, keys in [("raw_documents", ["a" * 64]), ("documents", ["a" * 16]), ("sentences", ["a" * 16]),
                        ("entity_mentions", ["a" * 16]), ("dim_location", None), ("fact_location_mention", ["a" * 16])]:
        result = _validate(con, tmp_path, table, keys)
        assert result.success, result.failures
    gates.record(con, [result])
    assert con.execute("select count(*) from dq_results where table_name = 'fact_location_mention'").fetchone()[0] > 3
    assert gates.data_docs_index(tmp_path).exists()


@pytest.mark.parametrize("table,keys,plant,expectation", [
    ("documents", ["a" * 16], "update documents set body = 'The Kremlinâs demands.'",
     "expect_column_values_to_not_match_regex"),
    ("documents", ["a" * 16], "update documents set body = body || '\n© 2025 Ukrinform. All rights reserved.'",
     "expect_column_values_to_not_match_regex"),
    ("entity_mentions", ["a" * 16], "update entity_mentions set start_char = 1",
     "expect_column_pair_values_to_be_equal"),
    ("entity_mentions", ["a" * 16], "update entity_mentions set doc_id = 'missing'", None),
    ("entity_mentions", ["a" * 16], "update entity_mentions set sentence_idx = 1",  # Putin is in sentence 0
     "expect_column_values_to_be_in_set(in_sentence)"),
    ("dim_location", None, "update dim_location set latitude = 123", "expect_column_values_to_be_between"),
    ("fact_location_mention", ["a" * 16], "update fact_location_mention set location_id = 'L2'",
     "expect_column_values_to_be_in_set"),
    ("fact_location_mention", ["a" * 16], "update fact_location_mention set start_char = 14",
     "expect_column_pair_values_to_be_equal"),  # a span no toponym mention of the document has
    ("fact_location_mention", ["a" * 16], "update fact_location_mention set surface = 'Kiev'",
     "expect_column_pair_values_to_be_equal"),
    ("raw_documents", ["a" * 64], "update raw_documents set media_type = 'pdf'", "expect_column_values_to_be_in_set"),
])
def test_planted_bad_data_fails_the_gate(con, tmp_path, table, keys, plant, expectation):
    con.execute(plant)
    if keys and plant.endswith("'missing'"):
        keys = ["missing"]
    result = _validate(con, tmp_path, table, keys)
    assert not result.success
    with pytest.raises(gates.GateFailed) as err:
        gates.require(result)
    assert f"table '{table}'" in str(err.value)
    if expectation:
        assert expectation in str(err.value)


def test_suites_validated_together_match_each_validated_alone(con, tmp_path):
    """validate_all shares one copy of the batch's documents among the suites that read it: the outcome
    must be what validating each table on its own gives, and a planted fault must still fail its suite."""
    tables = ["documents", "sentences", "entity_mentions", "toponym_mentions"]
    together = gates.validate_all(con, tables, "test", "r", EXPECTATIONS, tmp_path, ["a" * 16])
    alone = [_validate(con, tmp_path, t, ["a" * 16]) for t in tables]
    assert [(g.table, g.success, g.rows) for g in together] == [(g.table, g.success, g.rows) for g in alone]
    assert all(g.success for g in together) and [g.rows for g in together] == [1, 2, 1, 1]
    con.execute("update sentences set start_char = 50, end_char = 60 where sentence_idx = 1")  # past the body
    failed = gates.validate_all(con, tables, "test", "r", EXPECTATIONS, tmp_path, ["a" * 16])
    assert [g.success for g in failed] == [True, False, True, True]


def test_a_batch_validated_in_slices_decides_what_the_whole_batch_does(con, tmp_path):
    """A transform that rebuilt every document validates its facts a slice of documents at a time: each
    slice is its own result, a fault in any slice fails the gate, and a whole-table suite runs once."""
    second = "b" * 16
    warehouse.append_rows(con, "documents", pd.DataFrame([dict(
        doc_id=second, content_hash="b" * 64, source_uri="y.txt", title="T", body=BODY, language="en",
        story_id=second, cleaned_at=NOW, run_id="r", pipeline_version="t")]))
    warehouse.append_rows(con, "sentences", pd.DataFrame([
        dict(doc_id=second, sentence_idx=0, paragraph_idx=0, start_char=0, end_char=20)]))
    keys, tables = ["a" * 16, second], ["sentences", "dim_location"]
    whole = gates.validate_all(con, tables, "test", "r", EXPECTATIONS, tmp_path, keys)
    sliced = gates.validate_all(con, tables, "test", "r", EXPECTATIONS, tmp_path, keys, slice_size=1)
    assert [(g.table, g.rows) for g in whole] == [("sentences", 3), ("dim_location", 1)]
    assert [(g.table, g.rows, g.success) for g in sliced] == [
        ("sentences", 2, True), ("sentences", 1, True), ("dim_location", 1, True)]
    con.execute(f"update sentences set start_char = 50, end_char = 60 where doc_id = '{second}'")  # past its body
    sliced = gates.validate_all(con, tables, "test", "r", EXPECTATIONS, tmp_path, keys, slice_size=1)
    assert [g.success for g in sliced] == [True, False, True]
    assert not all(g.success for g in gates.validate_all(con, tables, "test", "r", EXPECTATIONS, tmp_path, keys))


def test_an_edited_suite_is_saved_again_and_an_unchanged_one_read_back(con, tmp_path):
    suites = tmp_path / "suites"
    suites.mkdir()
    suite = json.loads((EXPECTATIONS / "dim_location.json").read_text())
    (suites / "dim_location.json").write_text(json.dumps(suite))
    gx_root = tmp_path / "gx-root"
    assert gates.validate(con, "dim_location", "test", "r", suites, gx_root).success
    digests = json.loads((gx_root / "gx" / "newsfacts_suite_digests.json").read_text())
    gates._cached_checkpoint.cache_clear()  # as a new process: the unchanged suite is read back
    assert gates.validate(con, "dim_location", "test", "r", suites, gx_root).success
    assert json.loads((gx_root / "gx" / "newsfacts_suite_digests.json").read_text()) == digests
    for e in suite["expectations"]:  # Kyiv (50.45 N) now out of range: the edit must take effect
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"]["column"] == "latitude":
            e["kwargs"]["max_value"] = 45
    (suites / "dim_location.json").write_text(json.dumps(suite))
    gates._cached_checkpoint.cache_clear()
    result = gates.validate(con, "dim_location", "test", "r", suites, gx_root)
    assert not result.success and "latitude" in " ".join(result.failures)


def test_a_full_batch_of_real_documents_passes_under_the_writers_memory_cap(seeds_warehouse, tmp_path):
    """A gate validates a whole batch (500 documents by default) inside the batch's open transaction, on the
    writer's connection under its DuckDB memory cap (512 MB): the seeds' real rows, copied to 1,000 documents
    with news-length bodies, must pass within a quarter of it. (The entity_mentions query that joined the
    batch's mentions twice passed here too, yet needed more than the whole cap for 500 of the bench's pages,
    whose longest documents hold 1,000 mentions: `make bench` runs those.)"""
    import shutil

    from newsfacts import loads
    from newsfacts.config import Settings

    assert Settings().duckdb_memory == "512MB"
    path = tmp_path / "w.duckdb"
    shutil.copy(seeds_warehouse, path)
    con = warehouse.connect(path, memory_limit="128MB")
    seeds = [d for (d,) in con.execute("select doc_id from documents").fetchall()]
    copies = -(-1000 // len(seeds))
    con.execute("begin")  # as the flow validates: the batch's rows not yet committed
    for table in ("documents", *loads.ENTITY_TABLES):
        con.execute(f"insert into {table} select t.* replace (t.doc_id || '-' || c.i as doc_id) "
                    f"from {table} t cross join range({copies}) c(i)")
    con.execute("update documents set body = body || repeat(' More of article ' || doc_id || ' follows.', 400) "
                "where doc_id like '%-%'")  # each copy its own body, as long as a long news page
    keys = [f"{d}-{i}" for d in seeds for i in range(copies)]
    mentions = con.execute("select count(*) from entity_mentions where doc_id like '%-%'").fetchall()[0][0]
    assert len(keys) >= 1000 and mentions >= 30_000, mentions
    results = gates.validate_all(con, list(loads.ENTITY_TABLES), "entities", "r", EXPECTATIONS, tmp_path, keys)
    assert [(g.table, g.success) for g in results] == [(t, True) for t in loads.ENTITY_TABLES]
    assert results[1].rows == mentions
    con.execute("rollback")
