"""What each stage reads from and writes to the working database, one batch at a time.

The stages themselves (:mod:`ingest`, :mod:`clean`, :mod:`stories`, :mod:`entities`) are plain functions
over plain rows; these functions move their batches in and out of DuckDB in bulk (pandas frames, never
row by row), inside the transaction the flow holds.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from newsfacts import ingest, warehouse
from newsfacts.config import PIPELINE_VERSION
from newsfacts.rawstore import RawStore
from newsfacts.runs import Lineage

ENTITY_TABLES = ("sentences", "entity_mentions", "toponym_mentions", "actor_mentions")
RAW_COLUMNS = ["content_hash", "source_uri", "size_bytes", "media_type", "detected_encoding", "stored_bytes",
               "ingested_at", "run_id"]


def _select(con, sql: str, values: list[str]) -> list[tuple]:
    """Rows of ``sql``, which reads the given keys as ``select k from _nf_keys``."""
    con.register("_nf_keys", pd.DataFrame({"k": values}))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.unregister("_nf_keys")


def store_raw(store: RawStore, batch: ingest.IngestBatch) -> None:
    """Put the batch's raw bytes (documents and quarantined inputs) in the raw store, synced, before any row
    that names them is written; each raw document row learns its stored size."""
    kept = [(r["content_hash"], r["raw"]) for r in batch.raw_documents + batch.quarantine
            if r.get("raw") is not None and r.get("content_hash")]
    sizes = store.put_many(kept)
    for row in batch.raw_documents:
        row["stored_bytes"] = sizes[row["content_hash"]]


def _without_raw(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).drop(columns="raw", errors="ignore")


def write_ingested(con, batch: ingest.IngestBatch) -> list[str]:
    """Raw documents, quarantined inputs and the input accounting of one read batch; the new content hashes.

    The bytes themselves go to the raw store first (:func:`store_raw`); the rows carry only their hash."""
    raw = pd.DataFrame(batch.raw_documents, columns=RAW_COLUMNS).assign(pipeline_version=PIPELINE_VERSION)
    warehouse.replace_rows(con, "raw_documents", raw, key="content_hash")
    warehouse.append_rows(con, "quarantine", _without_raw(batch.quarantine))
    warehouse.append_rows(con, "input_files", pd.DataFrame(batch.input_files))
    return list(raw["content_hash"])


def write_stamps(con, rows: list[dict]) -> None:
    """Inputs accounted from their file stamp alone (unchanged, never opened)."""
    if rows:
        warehouse.append_rows(con, "input_files", pd.DataFrame(rows))


def raw_rows(con, hashes: list[str], store: RawStore) -> list[dict]:
    """The clean stage's input: the raw bytes from the raw store and what is known of their source."""
    return [dict(content_hash=h, source_uri=uri, media_type=media, raw=store.get(h)) for h, uri, media in _select(
        con, "select content_hash, source_uri, media_type from raw_documents "
             "where content_hash in (select k from _nf_keys)", hashes)]


def write_documents(con, run_id: str, hashes: list[str], docs: list[dict], rejected: list[dict]) -> list[str]:
    """Cleaned documents and the rejected ones' quarantine rows; the batch's document ids."""
    frame = pd.DataFrame(docs)
    if len(frame):
        frame = frame.assign(doc_id=[ingest.doc_id_for(h) for h in frame["content_hash"]],
                             story_id=frame["content_hash"].str[:16], run_id=run_id,
                             cleaned_at=datetime.now(UTC).replace(tzinfo=None), pipeline_version=PIPELINE_VERSION)
    # Keyed on every hash of the batch: a re-cleaned document that is now rejected leaves ``documents``.
    warehouse.replace_rows(con, "documents", frame if len(frame) else pd.DataFrame({"content_hash": []}),
                           key="content_hash", keys=hashes)
    warehouse.append_rows(con, "quarantine", _without_raw(rejected))  # their bytes are in the raw store
    mark_pending(con, [ingest.doc_id_for(h) for h in hashes])
    if rejected:
        for table in ENTITY_TABLES + ("story_signatures",):
            con.execute(f"delete from {table} where doc_id not in (select doc_id from documents)")
    return list(frame["doc_id"]) if len(frame) else []


def entity_inputs(con, doc_ids: list[str]) -> list[tuple[str, str, str | None]]:
    """The entities stage's input: (doc_id, body, language)."""
    return _select(con, "select doc_id, body, language from documents where doc_id in (select k from _nf_keys)",
                   doc_ids)


def write_entities(con, run_id: str, doc_ids: list[str], tables: dict[str, list[dict]], lineage: Lineage) -> int:
    """Replace the batch's sentences, entities and candidates, and stamp the versions that made them."""
    from newsfacts import entities

    for table, rows in tables.items():
        warehouse.replace_rows(con, table, pd.DataFrame(rows, columns=entities.COLUMNS[table]), key="doc_id",
                               keys=doc_ids)
    con.register("_nf_ids", pd.DataFrame({"d": doc_ids}))
    con.execute("update documents set entities_version = $1, ner_model = $2, gazetteer_version = $3, "
                "entities_run_id = $4 where doc_id in (select d from _nf_ids)",
                [lineage.pipeline_version, lineage.ner_model, lineage.gazetteer_version, run_id])
    con.unregister("_nf_ids")
    mark_pending(con, doc_ids)
    return sum(len(r) for r in tables.values())


def mark_pending(con, doc_ids: list[str]) -> None:
    """Queue documents for the next transform's per-document models (in the caller's transaction)."""
    warehouse.append_rows(con, warehouse.PENDING, pd.DataFrame({"doc_id": doc_ids}, dtype="object"))


def _bodies(con, ids) -> dict[str, str]:
    return dict(con.execute("select doc_id, body from documents where doc_id in (select unnest($1))",
                            [sorted(ids)]).fetchall()) if ids else {}


def _likely_candidates(pairs: list[tuple[str, str, int, int]], top: int) -> set[str]:
    """Stored documents among each new document's ``top`` most band-sharing stored ones (ties included)."""
    shared: dict[str, dict[str, int]] = {}
    for new, old, _, _ in pairs:
        counts = shared.setdefault(new, {})
        counts[old] = counts.get(old, 0) + 1
    out: set[str] = set()
    for counts in shared.values():
        floor = sorted(counts.values(), reverse=True)[:top][-1]
        out.update(d for d, n in counts.items() if n >= floor)
    return out


def group_stories(con, doc_ids: list[str]) -> int:
    """Group the batch's documents with earlier editions of the same story (MinHash LSH + alignment).

    Only stored signatures that share an LSH band with the batch are fetched, so the cost grows
    with the batch, not with the warehouse. Returns how many joined an existing story.
    """
    from newsfacts import stories

    docs = _select(con, "select doc_id, body from documents where doc_id in (select k from _nf_keys) "
                        "order by published_date nulls last, source_uri", doc_ids)
    _select(con, "delete from story_signatures where doc_id in (select k from _nf_keys)", doc_ids)
    bands = {d: stories.band_hashes(b) for d, b in docs}  # MinHash once: for the join and for assignment
    sigs = pd.DataFrame([(d, band, h) for d, hs in bands.items() for band, h in enumerate(hs)],
                        columns=["doc_id", "band", "hash"])
    con.register("_sigs", sigs)
    pairs = con.execute("select n.doc_id, s.doc_id, s.band, s.hash from story_signatures s "
                        "join _sigs n using (band, hash)").fetchall()
    con.unregister("_sigs")
    hits = [(d, band, h) for _, d, band, h in pairs]
    story_of = dict(con.execute("select doc_id, story_id from documents where doc_id in (select unnest($1))",
                                [sorted({d for d, _, _ in hits})]).fetchall()) if hits else {}
    # One read of the bodies the comparisons can need (each new document's likeliest stored candidates), not
    # one query per document: each such query scans the documents table, a cost that grows with the store.
    prefetched = _bodies(con, _likely_candidates(pairs, stories.MAX_CANDIDATES))

    def fetch(ids: list[str]) -> dict[str, str]:
        missing = [i for i in ids if i not in prefetched]
        return {**{i: prefetched[i] for i in ids if i in prefetched}, **(_bodies(con, missing) if missing else {})}

    rows = stories.assign_stories(docs, existing=hits, existing_story=story_of, fetch_bodies=fetch, hashes=bands)
    frame = pd.DataFrame([{k: r[k] for k in ("doc_id", "story_id", "similarity")} for r in rows])
    con.register("_stories", frame)
    con.execute("update documents set story_id = s.story_id, story_similarity = s.similarity "
                "from _stories s where documents.doc_id = s.doc_id")
    con.unregister("_stories")
    warehouse.append_rows(con, "story_signatures", pd.DataFrame([s for r in rows for s in r["signature"]],
                                                                 columns=["doc_id", "band", "hash"]))
    return int(frame["story_id"].ne(frame["doc_id"]).sum())
