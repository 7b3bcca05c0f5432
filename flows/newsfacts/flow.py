"""The newsfacts Prefect flow: wires stages, batches, gates and publishing; no stage logic here.

Per batch of inputs, inside one transaction of the working database:
ingest → gate → clean → gate → entities → gate. Then, over the whole warehouse: story grouping,
the SQL models in ``sql/`` → gates on the marts → accounting gate → publish a snapshot.
A failed gate rolls its batch back and stops the run before anything is published.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from newsfacts import faults, gates, ingest, warehouse
from newsfacts.config import PIPELINE_VERSION, Settings

# Tables each stage writes, validated on the stage's batch before the next stage runs.
BATCH_GATES = {
    "ingest": ["raw_documents"],
    "clean": ["documents"],
    "entities": ["sentences", "entity_mentions", "toponym_mentions", "actor_mentions"],
}
MART_GATES = ["dim_location", "fact_location_mention", "dim_actor", "fact_actor_mention"]


@dataclass
class RunSummary:
    """What one run did, printed at the end and stored in ``pipeline_runs``."""

    run_id: str
    inputs: int = 0
    loaded: int = 0
    unchanged: int = 0
    duplicate: int = 0
    quarantined: int = 0
    documents: int = 0
    entity_mentions: int = 0
    location_mentions: int = 0
    actor_mentions: int = 0
    gates: list[str] = field(default_factory=list)
    warehouse: str = ""
    data_docs: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, started: float) -> None:
        self.stage_seconds[stage] = round(self.stage_seconds.get(stage, 0.0) + time.monotonic() - started, 3)

    def lines(self) -> list[str]:
        return [
            f"inputs {self.inputs}: loaded {self.loaded}, unchanged {self.unchanged}, "
            f"duplicate {self.duplicate}, quarantined {self.quarantined}",
            f"documents in warehouse {self.documents}; mentions: entities {self.entity_mentions}, "
            f"locations {self.location_mentions}, actors {self.actor_mentions}",
            f"gates: {len(self.gates)} tables validated, all passed" if self.gates else "gates: none run",
            "stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.stage_seconds.items()),
            f"warehouse: {self.warehouse}",
            f"data docs: {self.data_docs}",
        ]


def _gate(con, settings: Settings, run_id: str, stage: str, table: str, keys=None) -> gates.GateResult:
    return gates.validate(con, table, stage, run_id, settings.expectations_dir, settings.gx_root, keys)


def _check(con, results: list[gates.GateResult]) -> None:
    """Record gate results; on a failure roll the open transaction back, keep the record, stop."""
    failed = [g for g in results if not g.success]
    if failed:
        con.execute("rollback")
        con.execute("begin")
        gates.record(con, results)
        con.execute("commit")
        gates.require(failed[0])
    gates.record(con, results)


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(con, settings: Settings, run_id: str, items, processed: set[str], seen: set[str],
                force: bool) -> dict:
    """Read one batch of files into ``raw_documents`` / ``quarantine`` / ``input_files``."""
    batch = ingest.ingest_batch(items, processed, seen, run_id, settings.max_file_bytes,
                                settings.max_decompressed_bytes, force=force)
    raw = pd.DataFrame(batch.raw_documents, columns=[
        "content_hash", "source_uri", "size_bytes", "media_type", "detected_encoding", "raw",
        "ingested_at", "run_id"]).assign(pipeline_version=PIPELINE_VERSION)
    warehouse.replace_rows(con, "raw_documents", raw, key="content_hash")
    warehouse.append_rows(con, "quarantine", pd.DataFrame(batch.quarantine))
    warehouse.append_rows(con, "input_files", pd.DataFrame(batch.input_files))
    keys = list(raw["content_hash"])
    _check(con, [_gate(con, settings, run_id, "ingest", t, keys) for t in BATCH_GATES["ingest"]])
    return {"hashes": keys, "statuses": [f["status"] for f in batch.input_files]}


@task(name="clean", cache_policy=NO_CACHE)
def clean_task(con, settings: Settings, run_id: str, hashes: list[str]) -> list[str]:
    """Extract clean article text for the batch's raw documents into ``documents``."""
    from newsfacts import clean

    if not hashes:
        return []
    con.register("_hashes", pd.DataFrame({"h": hashes}))
    raw_rows = con.execute("select content_hash, source_uri, media_type, raw from raw_documents "
                           "where content_hash in (select h from _hashes)").df().to_dict("records")
    con.unregister("_hashes")
    docs, rejected = clean.clean_batch(raw_rows, run_id)
    frame = pd.DataFrame(docs)
    if len(frame):
        frame = frame.assign(doc_id=[ingest.doc_id_for(h) for h in frame["content_hash"]],
                             story_id=frame["content_hash"].str[:16], run_id=run_id,
                             cleaned_at=datetime.now(UTC).replace(tzinfo=None), pipeline_version=PIPELINE_VERSION)
        warehouse.replace_rows(con, "documents", frame, key="doc_id")
    warehouse.append_rows(con, "quarantine", pd.DataFrame(rejected))
    doc_ids = list(frame["doc_id"]) if len(frame) else []
    _check(con, [_gate(con, settings, run_id, "clean", t, doc_ids) for t in BATCH_GATES["clean"]])
    return doc_ids


@task(name="entities", cache_policy=NO_CACHE)
def entities_task(con, settings: Settings, run_id: str, doc_ids: list[str]) -> int:
    """Sentences, NER entities, toponym and actor candidates for the batch's English documents."""
    from newsfacts import entities

    if not doc_ids:
        return 0
    con.register("_ids", pd.DataFrame({"d": doc_ids}))
    docs = con.execute("select doc_id, body, language from documents where doc_id in (select d from _ids)").fetchall()
    con.unregister("_ids")
    tables = entities.extract_batch(docs, settings)
    for table, rows in tables.items():
        warehouse.replace_rows(con, table, pd.DataFrame(rows, columns=entities.COLUMNS[table]), key="doc_id",
                               keys=doc_ids)
    _check(con, [_gate(con, settings, run_id, "entities", t, doc_ids) for t in BATCH_GATES["entities"]])
    return sum(len(r) for r in tables.values())


@task(name="stories", cache_policy=NO_CACHE)
def stories_task(con, doc_ids: list[str]) -> int:
    """Group the batch's documents with earlier editions of the same story (MinHash LSH + alignment).

    Only stored signatures that share an LSH band with the batch are fetched, so the cost grows
    with the batch, not with the warehouse.
    """
    from newsfacts import stories

    if not doc_ids:
        return 0
    con.register("_ids", pd.DataFrame({"d": doc_ids}))
    docs = con.execute("select doc_id, body from documents where doc_id in (select d from _ids) "
                       "order by published_date nulls last, source_uri").fetchall()
    con.execute("delete from story_signatures where doc_id in (select d from _ids)")
    con.unregister("_ids")
    sigs = pd.DataFrame([s for d, b in docs for s in stories.signature_rows(d, b)], columns=["doc_id", "band", "hash"])
    con.register("_sigs", sigs)
    hits = con.execute("select s.doc_id, s.band, s.hash from story_signatures s join _sigs n using (band, hash)"
                       ).fetchall()
    con.unregister("_sigs")
    story_of = dict(con.execute("select doc_id, story_id from documents where doc_id in (select distinct doc_id "
                                "from story_signatures)").fetchall()) if hits else {}

    def fetch(ids: list[str]) -> dict[str, str]:
        return dict(con.execute("select doc_id, body from documents where doc_id in (select unnest($1))",
                                [ids]).fetchall())

    rows = stories.assign_stories(docs, existing=hits, existing_story=story_of, fetch_bodies=fetch)
    frame = pd.DataFrame([{k: r[k] for k in ("doc_id", "story_id", "similarity")} for r in rows])
    con.register("_stories", frame)
    con.execute("update documents set story_id = s.story_id, story_similarity = s.similarity "
                "from _stories s where documents.doc_id = s.doc_id")
    con.unregister("_stories")
    warehouse.append_rows(con, "story_signatures", pd.DataFrame([s for r in rows for s in r["signature"]],
                                                                 columns=["doc_id", "band", "hash"]))
    return int(frame["story_id"].ne(frame["doc_id"]).sum())


@task(name="transform", cache_policy=NO_CACHE)
def transform_task(con, settings: Settings, run_id: str) -> list[str]:
    """Run the SQL models, then gate every mart before anything can be published."""
    models = warehouse.run_models(con, settings.sql_dir)
    _check(con, [_gate(con, settings, run_id, "transform", t) for t in MART_GATES])
    return models


def open_working(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The working database; seeded from the published warehouse when it is missing."""
    work = settings.working_db
    work.parent.mkdir(parents=True, exist_ok=True)
    if not work.exists() and settings.warehouse.exists():
        shutil.copyfile(settings.warehouse, work)
    return warehouse.connect(work, gazetteer=settings.gazetteer)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


@flow(name="newsfacts", log_prints=True)
def newsfacts_flow(source: str | None = None, warehouse_path: str | None = None, force: bool = False,
                   batch_size: int | None = None) -> dict:
    """Ingest a folder of news files and publish a gated DuckDB warehouse of actor and location facts."""
    from newsfacts import gazetteer

    started = time.monotonic()
    logger = get_run_logger()
    settings = Settings().with_overrides(source=source, warehouse=warehouse_path, batch_size=batch_size)
    run_id = str(flow_run.get_id() or uuid.uuid4())
    summary = RunSummary(run_id=run_id, warehouse=str(settings.warehouse))
    t = time.monotonic()
    gaz_version = gazetteer.ensure_gazetteer(settings.gazetteer)
    summary.timed("gazetteer", t)
    con = open_working(settings)
    try:
        con.execute("insert or replace into pipeline_runs (run_id, started_at, status, source, pipeline_version, "
                    "ner_model, gazetteer_version) values (?, ?, 'running', ?, ?, ?, ?)",
                    [run_id, datetime.now(UTC).replace(tzinfo=None), str(settings.source), PIPELINE_VERSION,
                     settings.spacy_model, gaz_version])
        processed = {h for (h,) in con.execute(
            "select content_hash from documents union select content_hash from quarantine "
            "where content_hash is not null").fetchall()}
        seen: set[str] = set()
        items = list(ingest.list_inputs(settings.source))
        summary.inputs = len(items)
        logger.info("%d inputs under %s", len(items), settings.source)
        for batch in _chunks(items, settings.batch_size):
            con.execute("begin")
            t = time.monotonic()
            faults.checkpoint("ingest")
            got = ingest_task(con, settings, run_id, batch, processed, seen, force)
            summary.timed("ingest", t)
            t = time.monotonic()
            faults.checkpoint("clean")
            doc_ids = clean_task(con, settings, run_id, got["hashes"])
            summary.timed("clean", t)
            t = time.monotonic()
            faults.checkpoint("stories")
            stories_task(con, doc_ids)
            summary.timed("stories", t)
            t = time.monotonic()
            faults.checkpoint("entities")
            entities_task(con, settings, run_id, doc_ids)
            summary.timed("entities", t)
            con.execute("commit")
        con.execute("begin")
        t = time.monotonic()
        faults.checkpoint("transform")
        transform_task(con, settings, run_id)
        summary.timed("transform", t)
        _check(con, [_gate(con, settings, run_id, "accounting", "input_files", [run_id]),
                     _gate(con, settings, run_id, "accounting", "quarantine", [run_id])])
        for status, n in con.execute("select status, count(*) from input_files where run_id = ? group by all",
                                     [run_id]).fetchall():
            setattr(summary, status, n)
        summary.loaded -= con.execute("select count(*) from quarantine where run_id = ? and stage <> 'ingest'",
                                      [run_id]).fetchone()[0]
        summary.quarantined = con.execute("select count(*) from quarantine where run_id = ?", [run_id]).fetchone()[0]
        counts = con.execute("""select (select count(*) from documents), (select count(*) from entity_mentions),
                                       (select count(*) from fact_location_mention),
                                       (select count(*) from fact_actor_mention)""").fetchone()
        summary.documents, summary.entity_mentions, summary.location_mentions, summary.actor_mentions = counts
        summary.gates = [f"{t}: passed" for (t,) in con.execute(
            "select distinct table_name from dq_results where run_id = ?", [run_id]).fetchall()]
        summary.seconds = round(time.monotonic() - started, 1)
        con.execute("update pipeline_runs set finished_at = ?, status = 'published', summary = ? where run_id = ?",
                    [datetime.now(UTC).replace(tzinfo=None), json.dumps(summary.__dict__), run_id])
        con.execute("commit")
        con.execute("checkpoint")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        con.execute("update pipeline_runs set finished_at = ?, status = 'failed' where run_id = ?",
                    [datetime.now(UTC).replace(tzinfo=None), run_id])
        raise
    finally:
        con.close()
    t = time.monotonic()
    faults.checkpoint("publish")
    warehouse.publish(settings.working_db, settings.warehouse)
    summary.timed("publish", t)
    summary.data_docs = str(gates.data_docs_index(settings.gx_root))
    for line in summary.lines():
        logger.info(line)
    return summary.__dict__


