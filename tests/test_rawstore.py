"""The raw store: raw bytes live outside the analyst file, by hash, and every document can be rebuilt from them."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest
from newsfacts import clean, rawstore, warehouse
from newsfacts.config import Settings
from newsfacts.rawstore import CorruptRaw, MissingRaw, RawStore


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _query(wh, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_put_get_round_trip_is_idempotent_and_leaves_no_temporary_files(tmp_path):
    store = RawStore(tmp_path / "raw")
    pages = [b"<html><p>one</p></html>" * 50, b"", b"\x1f\x8b already gzipped"]
    sizes = store.put_many((_h(p), p) for p in pages)
    assert set(sizes) == {_h(p) for p in pages} and all(n > 0 for n in sizes.values())
    for p in pages:
        assert store.get(_h(p)) == p
    before = {f: f.stat().st_mtime_ns for f in (tmp_path / "raw").rglob("*.gz")}
    assert store.put_many((_h(p), p) for p in pages) == sizes  # stored once: a second write is skipped
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "raw").rglob("*.gz")} == before
    assert not list((tmp_path / "raw").rglob(".*.tmp"))
    assert sizes[_h(pages[0])] < len(pages[0]) / 4  # compressed


def test_missing_and_corrupt_objects_are_errors_not_silent(tmp_path):
    store = RawStore(tmp_path / "raw")
    with pytest.raises(MissingRaw):
        store.get("0" * 64)
    h = _h(b"page")
    store.put_many([(h, b"page")])
    store.path(h).write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(CorruptRaw):
        store.get(h)


def test_a_warehouse_holding_raw_bytes_moves_them_to_the_store(tmp_path):
    """Warehouses written before the raw store kept bytes in ``raw`` columns: opening one moves them."""
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table raw_documents (content_hash varchar primary key, source_uri varchar not null, "
                "size_bytes bigint not null, media_type varchar, detected_encoding varchar, raw blob, "
                "ingested_at timestamp not null, run_id varchar not null, pipeline_version varchar not null)")
    con.execute("create table quarantine (source_uri varchar not null, content_hash varchar, stage varchar not null, "
                "reason varchar not null, raw blob, quarantined_at timestamp not null, run_id varchar not null)")
    page, bad = b"<p>an article</p>", b"\x89PNG"
    con.register("_r", pd.DataFrame([dict(content_hash=_h(page), source_uri="a.html", size_bytes=len(page),
                                          media_type="html", detected_encoding="utf-8", raw=page,
                                          ingested_at=pd.Timestamp("2026-01-01"), run_id="r", pipeline_version="0")]))
    con.execute("insert into raw_documents select * from _r")
    con.execute("insert into quarantine values ('b.html', ?, 'ingest', 'binary content (PNG)', ?, now(), 'r'), "
                "('c.html', null, 'ingest', 'too large', null, now(), 'r')", [_h(bad), bad])
    con.close()
    con = warehouse.connect(db)
    store = RawStore(tmp_path / "raw")
    assert rawstore.migrate(con, store) == 2
    assert store.get(_h(page)) == page and store.get(_h(bad)) == bad
    cols = {(t, c) for t, c in con.execute("select table_name, column_name from duckdb_columns()").fetchall()}
    assert ("raw_documents", "raw") not in cols and ("quarantine", "raw") not in cols
    assert con.execute("select stored_bytes from raw_documents").fetchone()[0] == store.path(_h(page)).stat().st_size
    assert rawstore.migrate(con, store) == 0  # nothing left to move
    con.close()


@pytest.mark.slow
def test_the_published_file_holds_no_raw_bytes_and_the_store_holds_them_all(seeds_warehouse):
    store = RawStore(Settings().with_overrides(warehouse=str(seeds_warehouse)).raw_store)
    blobs = _query(seeds_warehouse, "select table_name, column_name from duckdb_columns() where data_type = 'BLOB' "
                                    "and database_name = current_database()")
    hashes = [h for (h,) in _query(seeds_warehouse, "select content_hash from raw_documents union select "
                                                    "content_hash from quarantine where content_hash is not null")]
    [(empty,)] = _query(seeds_warehouse, "select content_hash from quarantine where source_uri like '%empty.txt'")
    assert blobs == []
    assert hashes and store.missing(hashes) == []
    assert store.get(empty) == b""  # quarantine keeps its bytes, even none
    text = seeds_warehouse.read_bytes()
    assert not any(store.get(h) in text for h in hashes if len(store.get(h)) > 1000)  # no whole page inside


@pytest.mark.slow
def test_every_document_cleans_again_from_its_stored_bytes_to_the_same_body(seeds_warehouse):
    store = RawStore(Settings().with_overrides(warehouse=str(seeds_warehouse)).raw_store)
    stored = _query(seeds_warehouse, "select r.content_hash, r.source_uri, r.media_type, d.title, d.body "
                                     "from documents d join raw_documents r using (content_hash) order by 1")
    assert len(stored) == 5
    rows = [dict(content_hash=h, source_uri=uri, media_type=media, raw=store.get(h)) for h, uri, media, _, _ in stored]
    docs, rejected = clean.clean_batch(rows, "rebuild")
    assert rejected == []
    assert [(d["content_hash"], d["title"], d["body"]) for d in docs] == [(h, t, b) for h, _, _, t, b in stored]


@pytest.mark.slow
def test_a_backfill_rebuilds_every_document_from_the_store_without_its_source(seeds_warehouse, tmp_path):
    """The flow re-cleans stored documents (as after a pipeline version change) with the source folder gone."""
    from newsfacts.flow import newsfacts_flow

    wh = tmp_path / "copy" / "newsfacts.duckdb"
    wh.parent.mkdir()
    shutil.copy(seeds_warehouse, wh)
    shutil.copytree(seeds_warehouse.with_suffix(".raw"), wh.with_suffix(".raw"))

    def bodies() -> dict[str, str]:
        return dict(_query(wh, "select doc_id, body from documents"))

    before = bodies()
    summary = newsfacts_flow(source=str(tmp_path / "gone"), warehouse_path=str(wh),
                             stages=["clean", "entities", "transform"], ingested_from=date(2000, 1, 1))
    assert summary["recleaned"] == len(before) == 5
    assert bodies() == before
