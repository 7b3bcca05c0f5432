"""The newsfacts Prefect flows: wire stages, batches, gates, the writer lock and publishing; no stage logic.

One run, holding the single-writer lock, on the working database:

1. ingest the source in batches; per batch, inside one transaction:
   ingest → gate → clean → gate → stories → entities → gate → commit;
2. catch up: documents cleaned or extracted by another pipeline version, NER model or gazetteer
   version (lineage columns on ``documents``) are recomputed, in batches, the same way;
3. when anything changed: the SQL models in ``sql/`` → gates on the marts → accounting gates →
   atomic publish of a read-only snapshot, plus Prefect artifacts (summary table, report).

The heavy, pure stages (clean, entities) are submitted to the task runner in slices, so they run
on threads or on a Dask cluster; everything that writes stays in this process (one writer).
A failed gate rolls its batch back and stops the run before anything is published.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Annotated, Literal

import duckdb
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment, flow_run
from prefect.states import Cancelled, Failed
from pydantic import BeforeValidator, WithJsonSchema

from newsfacts import faults, gates, ingest, lock, sources, warehouse
from newsfacts.config import PIPELINE_VERSION, Settings
from newsfacts.progress import Progress

Stage = Literal["ingest", "clean", "entities", "transform"]
ALL_STAGES: tuple[Stage, ...] = ("ingest", "clean", "entities", "transform")
# Tables each stage writes, validated on the stage's batch before the next stage runs.
BATCH_GATES = {
    "ingest": ["raw_documents"],
    "clean": ["documents"],
    "entities": ["sentences", "entity_mentions", "toponym_mentions", "actor_mentions"],
}
MART_GATES = ["dim_location", "fact_location_mention", "dim_actor", "fact_actor_mention"]
ENTITY_TABLES = ("sentences", "entity_mentions", "toponym_mentions", "actor_mentions")


@dataclass
class RunSummary:
    """What one run did, printed at the end, stored in ``pipeline_runs`` and published as an artifact."""

    run_id: str
    inputs: int = 0
    loaded: int = 0
    unchanged: int = 0
    unread: int = 0  # unchanged or duplicate inputs accounted from their file stamp, never opened
    duplicate: int = 0
    quarantined: int = 0
    recleaned: int = 0
    reextracted: int = 0
    documents: int = 0
    entity_mentions: int = 0
    location_mentions: int = 0
    actor_mentions: int = 0
    published: bool = False
    gates: list[str] = field(default_factory=list)
    warehouse: str = ""
    data_docs: str = ""
    report: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, started: float) -> None:
        self.stage_seconds[stage] = round(self.stage_seconds.get(stage, 0.0) + time.monotonic() - started, 3)

    def lines(self) -> list[str]:
        state = "published" if self.published else "nothing changed: the published warehouse was left as it is"
        return [
            f"inputs {self.inputs}: loaded {self.loaded}, unchanged {self.unchanged}, "
            f"duplicate {self.duplicate}, quarantined {self.quarantined} ({self.unread} known by stamp, not read)",
            f"recomputed for new versions: cleaned {self.recleaned}, entities {self.reextracted}",
            f"documents in warehouse {self.documents}; mentions: entities {self.entity_mentions}, "
            f"locations {self.location_mentions}, actors {self.actor_mentions}",
            f"gates: {len(self.gates)} tables validated, all passed" if self.gates else "gates: none run",
            "stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.stage_seconds.items()),
            f"warehouse: {self.warehouse} ({state})",
            f"data docs: {self.data_docs}",
        ] + ([f"report: {self.report}"] if self.report else [])


@dataclass(frozen=True)
class Lineage:
    """The versions that produce a row; a row made by other versions is recomputed."""

    pipeline_version: str
    ner_model: str
    gazetteer_version: str


@dataclass(frozen=True)
class Selection:
    """Which stored documents a backfill reprocesses (dates are inclusive; None = open)."""

    ingested_from: date | None = None
    ingested_to: date | None = None
    published_from: date | None = None
    published_to: date | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.ingested_from, self.ingested_to, self.published_from,
                                           self.published_to))

    def where(self) -> tuple[str, list]:
        """A parameterised filter on ``documents d join raw_documents r`` (never string-built from input)."""
        def to(d: date | None) -> date | None:
            return None if d is None else d + timedelta(days=1)

        return ("($1::date is null or r.ingested_at >= $1) and ($2::date is null or r.ingested_at < $2) "
                "and ($3::date is null or try_cast(d.published_date as date) >= $3) "
                "and ($4::date is null or try_cast(d.published_date as date) < $4)",
                [self.ingested_from, to(self.ingested_to), self.published_from, to(self.published_to)])


def models_version(settings: Settings) -> str:
    """A digest of the SQL models and the suites: when they change, the marts are rebuilt and published."""
    digest = hashlib.sha256()
    for root in (settings.sql_dir, settings.expectations_dir):
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".sql", ".json"):
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ner_model_version(name: str) -> str:
    """The NER model's identity for lineage: package name and installed version, without loading it."""
    for dist in (name, name.replace("_", "-")):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return f"{name}=={metadata.version(dist)}"
    return name


# --- the heavy stages: pure functions of their inputs, so they can run on any worker ---------------

def clean_slice(raw_rows: list[dict], run_id: str) -> tuple[list[dict], list[dict]]:
    """Clean article text for a slice of raw documents: (documents, rejected-with-reason)."""
    from newsfacts import clean

    return clean.clean_batch(raw_rows, run_id)


def entities_slice(docs: list[tuple[str, str, str | None]], settings: Settings) -> dict[str, list[dict]]:
    """Sentences, NER entities, toponym and actor candidates for a slice of documents."""
    from newsfacts import entities

    return entities.extract_batch(docs, settings)


# Tasks wrap module-level functions under other names, so Dask pickles them by reference.
clean_task = task(name="clean", cache_policy=NO_CACHE, retries=1)(clean_slice)
entities_task = task(name="entities", cache_policy=NO_CACHE, retries=1)(entities_slice)


def _fan_out(task_fn, items: list, parts: int, *args):
    """Submit ``items`` in ``parts`` slices to the flow's task runner and wait for all of them."""
    if not items:
        return []
    size = max(1, -(-len(items) // max(1, parts)))
    futures = [task_fn.submit(items[i:i + size], *args) for i in range(0, len(items), size)]
    return [f.result() for f in futures]


# --- the writer: loads, gates and bookkeeping on the working database --------------------------------
# ``load_documents`` / ``load_entities`` are plain functions, not tasks: the heavy tasks they submit must
# be submitted from the flow's context, which (unlike a task's) holds no DuckDB connection to serialise.

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
    if keys:  # an all-unchanged batch wrote no row to validate; a checkpoint costs ~0.3 s
        _check(con, [_gate(con, settings, run_id, "ingest", t, keys) for t in BATCH_GATES["ingest"]])
    return {"hashes": keys, "statuses": [f["status"] for f in batch.input_files]}


def _select(con, sql: str, column: str, values: list[str]) -> list[tuple]:
    con.register("_nf_sel", pd.DataFrame({column: values}))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.unregister("_nf_sel")


def load_documents(con, settings: Settings, run_id: str, hashes: list[str]) -> list[str]:
    """Clean the batch's raw documents (on the task runner) and load them into ``documents``."""
    if not hashes:
        return []
    raw_rows = [dict(zip(("content_hash", "source_uri", "media_type", "raw"), r, strict=True)) for r in _select(
        con, "select content_hash, source_uri, media_type, raw from raw_documents "
             "where content_hash in (select h from _nf_sel)", "h", hashes)]
    docs, rejected = [], []
    for d, r in _fan_out(clean_task, raw_rows, settings.parallelism, run_id):
        docs += d
        rejected += r
    frame = pd.DataFrame(docs)
    if len(frame):
        frame = frame.assign(doc_id=[ingest.doc_id_for(h) for h in frame["content_hash"]],
                             story_id=frame["content_hash"].str[:16], run_id=run_id,
                             cleaned_at=datetime.now(UTC).replace(tzinfo=None), pipeline_version=PIPELINE_VERSION)
    # Keyed on every hash of the batch: a re-cleaned document that is now rejected leaves ``documents``.
    warehouse.replace_rows(con, "documents", frame if len(frame) else pd.DataFrame({"content_hash": []}),
                           key="content_hash", keys=hashes)
    warehouse.append_rows(con, "quarantine", pd.DataFrame(rejected))
    if rejected:
        for table in ENTITY_TABLES + ("story_signatures",):
            con.execute(f"delete from {table} where doc_id not in (select doc_id from documents)")
    doc_ids = list(frame["doc_id"]) if len(frame) else []
    _check(con, [_gate(con, settings, run_id, "clean", t, doc_ids) for t in BATCH_GATES["clean"]])
    return doc_ids


def load_entities(con, settings: Settings, run_id: str, doc_ids: list[str], lineage: Lineage) -> int:
    """Extract entities for the batch's documents (on the task runner), load them, stamp their lineage."""
    from newsfacts import entities

    if not doc_ids:
        return 0
    docs = _select(con, "select doc_id, body, language from documents where doc_id in (select d from _nf_sel)",
                   "d", doc_ids)
    tables: dict[str, list[dict]] = {t: [] for t in ENTITY_TABLES}
    for part in _fan_out(entities_task, docs, settings.parallelism, settings):
        for t, rows in part.items():
            tables[t] += rows
    for table, rows in tables.items():
        warehouse.replace_rows(con, table, pd.DataFrame(rows, columns=entities.COLUMNS[table]), key="doc_id",
                               keys=doc_ids)
    con.register("_nf_ids", pd.DataFrame({"d": doc_ids}))
    con.execute("update documents set entities_version = $1, ner_model = $2, gazetteer_version = $3, "
                "entities_run_id = $4 where doc_id in (select d from _nf_ids)",
                [lineage.pipeline_version, lineage.ner_model, lineage.gazetteer_version, run_id])
    con.unregister("_nf_ids")
    _check(con, [_gate(con, settings, run_id, "entities", t, doc_ids) for t in BATCH_GATES["entities"]])
    return sum(len(r) for r in tables.values())


@task(name="stories", cache_policy=NO_CACHE)
def stories_task(con, doc_ids: list[str]) -> int:
    """Group the batch's documents with earlier editions of the same story (MinHash LSH + alignment).

    Only stored signatures that share an LSH band with the batch are fetched, so the cost grows
    with the batch, not with the warehouse.
    """
    if not doc_ids:
        return 0
    from newsfacts import stories

    con.register("_ids", pd.DataFrame({"d": doc_ids}))
    docs = con.execute("select doc_id, body from documents where doc_id in (select d from _ids) "
                       "order by published_date nulls last, source_uri").fetchall()
    con.execute("delete from story_signatures where doc_id in (select d from _ids)")
    con.unregister("_ids")
    bands = {d: stories.band_hashes(b) for d, b in docs}  # MinHash once: for the join and for assignment
    sigs = pd.DataFrame([(d, band, h) for d, hs in bands.items() for band, h in enumerate(hs)],
                        columns=["doc_id", "band", "hash"])
    con.register("_sigs", sigs)
    hits = con.execute("select s.doc_id, s.band, s.hash from story_signatures s join _sigs n using (band, hash)"
                       ).fetchall()
    con.unregister("_sigs")
    story_of = dict(con.execute("select doc_id, story_id from documents where doc_id in (select unnest($1))",
                                [sorted({d for d, _, _ in hits})]).fetchall()) if hits else {}

    def fetch(ids: list[str]) -> dict[str, str]:
        return dict(con.execute("select doc_id, body from documents where doc_id in (select unnest($1))",
                                [ids]).fetchall())

    rows = stories.assign_stories(docs, existing=hits, existing_story=story_of, fetch_bodies=fetch, hashes=bands)
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
    models = warehouse.run_models(con, settings.sql_dir, "tail")
    _check(con, [_gate(con, settings, run_id, "transform", t) for t in MART_GATES])
    return models


def open_working(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The working database; seeded from the published warehouse when it is missing."""
    work = settings.working_db
    work.parent.mkdir(parents=True, exist_ok=True)
    if not work.exists() and settings.warehouse.exists():
        shutil.copyfile(settings.warehouse, work)
    return warehouse.connect(work, gazetteer=settings.gazetteer, memory_limit=settings.duckdb_memory)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class _Run:
    """One run's state on the working database: the order of stages, batches and transactions."""

    def __init__(self, con, settings: Settings, run_id: str, lineage: Lineage, summary: RunSummary,
                 stages: tuple[Stage, ...], logger):
        self.con, self.settings, self.run_id, self.lineage = con, settings, run_id, lineage
        self.summary, self.stages, self.log = summary, stages, logger
        self._warming: threading.Thread | None = None

    def warm_up(self) -> None:
        """Once there is work: import GX and build the date parser's tables in the background (seconds of
        start-up that a run with nothing new never pays)."""
        if self._warming is None:
            self._warming = threading.Thread(target=_warm_up, args=(self.settings,), daemon=True)
            self._warming.start()

    def process(self, hashes: list[str], clean: bool, extract_ids: list[str] | None = None,
                progress: Progress | None = None, files: int = 0) -> None:
        """Clean (optional) then extract one batch, committed by the caller as one transaction."""
        con, s = self.con, self.settings
        doc_ids = extract_ids or []
        if clean and "clean" in self.stages:
            if progress:
                progress.start("clean")
            faults.checkpoint("clean")
            t = time.monotonic()
            doc_ids = load_documents(con, s, self.run_id, hashes)
            self.summary.timed("clean", t)
            faults.checkpoint("stories")
            if doc_ids:
                t = time.monotonic()
                stories_task(con, doc_ids)
                self.summary.timed("stories", t)
            if progress:
                progress.advance("clean", files)
        if "entities" in self.stages:
            if progress:
                progress.start("entities")
            if doc_ids:
                faults.checkpoint("entities")
                t = time.monotonic()
                load_entities(con, s, self.run_id, doc_ids, self.lineage)
                self.summary.timed("entities", t)
            if progress:
                progress.advance("entities", files)

    def progress(self, total: int) -> Progress:
        """Bars on a terminal, periodic log lines in Prefect's log otherwise."""
        return Progress(total, log=self.log.info)

    def ingest(self, source, pattern: str | None, force: bool) -> int:
        con = self.con
        processed = {h for (h,) in con.execute(
            "select content_hash from documents union select content_hash from quarantine "
            "where content_hash is not null").fetchall()}
        seen: set[str] = set()
        items = [i for i in ingest.list_inputs(source) if sources.matches(i[0], source, pattern)]
        self.summary.inputs = len(items)
        self.log.info("%d inputs under %s%s", len(items), source, f" matching {pattern}" if pattern else "")
        loaded = 0
        with self.progress(len(items)) as progress:
            if not force:
                t = time.monotonic()
                items = self._skip_unchanged(items, processed, seen)
                self.summary.timed("ingest", t)
            if items:
                self.warm_up()
                progress.skip("ingest", self.summary.inputs - len(items))
            for batch in _chunks(items, self.settings.batch_size):
                con.execute("begin")
                faults.checkpoint("ingest")
                t = time.monotonic()
                got = ingest_task(con, self.settings, self.run_id, batch, processed, seen, force)
                self.summary.timed("ingest", t)
                progress.advance("ingest", len(batch))
                self.process(got["hashes"], clean=True, progress=progress, files=len(batch))
                con.execute("commit")
                loaded += len(got["hashes"])
        return loaded

    def _skip_unchanged(self, items: list, processed: set[str], seen: set[str]) -> list:
        """Account for files whose stamp matches the run that last read them, without opening them;
        returns the inputs still to read (see :func:`newsfacts.ingest.screen_unchanged`)."""
        known = {uri: (stamp, h) for uri, stamp, h in self.con.execute(
            "select source_uri, file_stamp, content_hash from input_files "
            "qualify row_number() over (partition by source_uri order by seen_at desc) = 1").fetchall()
            if stamp is not None and h in processed}
        to_read, rows = ingest.screen_unchanged(items, known, seen, self.run_id)
        self.summary.unread = len(rows)
        if rows:
            self.con.execute("begin")
            warehouse.append_rows(self.con, "input_files", pd.DataFrame(rows))
            self.con.execute("commit")
        return to_read

    def catch_up(self, selection: Selection, force: bool) -> None:
        """Recompute documents made by other versions, plus everything a backfill selected."""
        con, lin = self.con, self.lineage
        where, params = selection.where()
        pick = force or selection.any
        if "clean" in self.stages:
            # Raw documents never cleaned (e.g. ingested by a run without the clean stage), documents
            # cleaned by another pipeline version, and what a backfill picked (once per run).
            stale = [h for (h,) in con.execute(
                f"select r.content_hash from raw_documents r left join documents d using (content_hash) "
                f"where {where} and r.content_hash not in (select content_hash from quarantine "
                f"where content_hash is not null) and (d.doc_id is null or d.pipeline_version <> $5 "
                f"or ($6 and d.run_id is distinct from $7)) order by 1",
                params + [lin.pipeline_version, pick, self.run_id]).fetchall()]
            if stale:
                self.warm_up()
            with self.progress(len(stale)) as progress:
                for batch in _chunks(stale, self.settings.batch_size):
                    con.execute("begin")
                    self.process(batch, clean=True, progress=progress, files=len(batch))
                    con.execute("commit")
            self.summary.recleaned = len(stale)
        if "entities" in self.stages:
            redo = [d for (d,) in con.execute(
                f"select d.doc_id from documents d join raw_documents r using (content_hash) where {where} and "
                f"(($6 and d.entities_run_id is distinct from $8) or d.entities_version is distinct from $5 "
                f"or d.ner_model is distinct from $7 or d.gazetteer_version is distinct from $9) order by 1",
                params + [lin.pipeline_version, pick, lin.ner_model, self.run_id, lin.gazetteer_version]
            ).fetchall()]
            if redo:
                self.warm_up()
            with self.progress(len(redo)) as progress:
                for batch in _chunks(redo, self.settings.batch_size):
                    con.execute("begin")
                    self.process([], clean=False, extract_ids=batch, progress=progress, files=len(batch))
                    con.execute("commit")
            self.summary.reextracted = len(redo)

    def needs_publish(self, force: bool) -> bool:
        """Publish when this run changed something, or an earlier run committed work it never published."""
        s = self.summary
        if force or s.loaded or s.quarantined or s.recleaned or s.reextracted or not self.settings.warehouse.exists():
            return True
        if "ingest" not in self.stages:
            return True  # an explicit reprocessing backfill always rebuilds and publishes
        last = self.con.execute("select status from pipeline_runs where run_id <> ? order by started_at desc "
                                "limit 1", [self.run_id]).fetchone()
        if last is None or last[0] not in ("published", "unchanged"):
            return True
        # Changed SQL models (or suites) must reach analysts even when no input changed.
        built = self.con.execute("select models_version from pipeline_runs where status = 'published' "
                                 "order by started_at desc limit 1").fetchone()
        if built is None or built[0] != models_version(self.settings):
            return True
        # A run killed between committing its 'published' status and renaming the snapshot into place
        # left work the published file lacks: compare the last published run of both files.
        return self._last_published(self.con) != self._published_file_last_run()

    def _last_published(self, con) -> str | None:
        row = con.execute("select run_id from pipeline_runs where status = 'published' "
                          "order by started_at desc limit 1").fetchone()
        return row[0] if row else None

    def _published_file_last_run(self) -> str | None:
        try:
            con = duckdb.connect(str(self.settings.warehouse), read_only=True)
        except duckdb.Error:
            return None
        try:
            return self._last_published(con)
        except duckdb.Error:
            return None
        finally:
            con.close()

    def finish(self, publish: bool) -> None:
        """Transform and gate (when publishing), account for every input, record the run."""
        con, run_id, summary = self.con, self.run_id, self.summary
        transform = publish and "transform" in self.stages
        if publish:
            self.warm_up()
        t = time.monotonic()
        if transform:
            faults.checkpoint("transform")
            # The models ahead of the first mart hold most rows (every candidate place of every mention);
            # inside the transaction they stay pinned in DuckDB's capped memory until the commit (out of
            # memory on 10,000 documents), so they are committed first. They are rebuilt every run, and
            # nothing is published unless the marts' gates below pass.
            warehouse.run_models(con, self.settings.sql_dir, "head")
        con.execute("begin")
        if transform:
            transform_task(con, self.settings, run_id)
            summary.timed("transform", t)
        # Accounting gates on what this run wrote; a run that found nothing new wrote only 'unchanged'
        # stamps, and validating those would cost GX's start-up for nothing.
        wrote = con.execute("select (select count(*) from input_files where run_id = $1 and status <> 'unchanged'), "
                            "(select count(*) from quarantine where run_id = $1)", [run_id]).fetchall()[0]
        _check(con, [_gate(con, self.settings, run_id, "accounting", table, [run_id])
                     for table, n in zip(("input_files", "quarantine"), wrote, strict=True) if n or publish])
        for status, n in con.execute("select status, count(*) from input_files where run_id = ? group by all",
                                     [run_id]).fetchall():
            setattr(summary, status, n)
        summary.loaded -= con.execute("select count(*) from quarantine where run_id = ? and stage <> 'ingest'",
                                      [run_id]).fetchone()[0]
        summary.quarantined = con.execute("select count(*) from quarantine where run_id = ?", [run_id]).fetchone()[0]
        counts = con.execute("""select (select count(*) from documents), (select count(*) from entity_mentions),
                                       (select count(*) from fact_location_mention),
                                       (select count(*) from fact_actor_mention)""").fetchone() \
            if _has_table(con, "fact_actor_mention") else (con.execute("select count(*) from documents").fetchone()[0],
                                                           0, 0, 0)
        summary.documents, summary.entity_mentions, summary.location_mentions, summary.actor_mentions = counts
        summary.gates = [f"{t}: passed" for (t,) in con.execute(
            "select distinct table_name from dq_results where run_id = ?", [run_id]).fetchall()]
        summary.published = publish
        con.execute("update pipeline_runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
                    [datetime.now(UTC).replace(tzinfo=None), "published" if publish else "unchanged",
                     json.dumps(summary.__dict__), run_id])
        con.execute("commit")
        con.execute("checkpoint")


def _has_table(con, name: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where table_name = ? and database_name = "
                            "current_database()", [name]).fetchone()[0])


def _warm_up(settings: Settings) -> None:
    """Start-up work off the critical path (a background thread): GX's context, the date parser's tables."""
    from newsfacts import clean

    gates.warm_up(settings.gx_root)
    with contextlib.suppress(Exception):  # the first page that needs the parser meets the error itself
        clean.warm_up()


def run_pipeline(settings: Settings, *, run_id: str | None = None, force: bool = False,
                 stages: tuple[Stage, ...] = ALL_STAGES, selection: Selection = Selection(),
                 pattern: str | None = None, logger=None) -> RunSummary:
    """The whole run under the writer lock: ingest, catch up, transform, gate, publish."""
    from newsfacts import gazetteer

    started = time.monotonic()
    logger = logger or get_run_logger()
    run_id = run_id or str(uuid.uuid4())
    summary = RunSummary(run_id=run_id, warehouse=str(settings.warehouse))
    with lock.writer_lock(settings.work_dir, run_id, wait=settings.lock_wait):
        t = time.monotonic()
        gaz_version = gazetteer.ensure_gazetteer(settings.gazetteer)
        summary.timed("gazetteer", t)
        lineage = Lineage(PIPELINE_VERSION, ner_model_version(settings.spacy_model), gaz_version)
        con = open_working(settings)
        try:
            # The lock is ours, so a run still marked running was killed: say so instead of lying.
            con.execute("update pipeline_runs set status = 'abandoned' where status = 'running'")
            con.execute("insert or replace into pipeline_runs (run_id, started_at, status, source, pipeline_version, "
                        "ner_model, gazetteer_version, stages, models_version) "
                        "values (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                        [run_id, datetime.now(UTC).replace(tzinfo=None),
                         str(settings.source) if "ingest" in stages else None, PIPELINE_VERSION, lineage.ner_model,
                         gaz_version, ",".join(stages), models_version(settings)])
            run = _Run(con, settings, run_id, lineage, summary, stages, logger)
            if "ingest" in stages:
                run.ingest(settings.source, pattern, force)
            run.catch_up(selection, force and "ingest" not in stages)
            # ``loaded`` so far counts raw documents; the exact per-status figures come from input_files.
            summary.loaded, summary.quarantined = con.execute(
                "select count(*) filter (status = 'loaded'), count(*) filter (status = 'quarantined') "
                "from input_files where run_id = ?", [run_id]).fetchone()
            publish = run.needs_publish(force)
            run.finish(publish)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            with contextlib.suppress(duckdb.Error):
                con.execute("update pipeline_runs set finished_at = ?, status = 'failed' where run_id = ?",
                            [datetime.now(UTC).replace(tzinfo=None), run_id])
            raise
        finally:
            con.close()
        if publish:
            faults.checkpoint("publish")
            t = time.monotonic()
            warehouse.publish(settings.working_db, settings.warehouse)
            summary.timed("publish", t)
    summary.data_docs = str(gates.data_docs_index(settings.gx_root))
    if summary.published:
        summary.report = _write_report(settings, run_id, logger)
    summary.seconds = round(time.monotonic() - started, 1)
    for line in summary.lines():
        logger.info(line)
    return summary


def _write_report(settings: Settings, run_id: str, logger) -> str:
    """The HTML report of the published warehouse, one file per run; a failure here never fails the run."""
    from newsfacts import report

    out = settings.warehouse.parent / "reports" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{run_id[:8]}.html"
    try:
        return str(report.write(settings.warehouse, out))
    except Exception as exc:  # noqa: BLE001 - the warehouse is published; the report is a convenience
        logger.warning("report not written (%s: %s); the warehouse is published", type(exc).__name__, exc)
        return ""


def publish_artifacts(summary: RunSummary, title: str) -> None:
    """The run's summary table and a markdown report in the Prefect UI (no paths to secrets, only figures)."""
    rows = [{"figure": k, "value": v} for k, v in (
        ("inputs", summary.inputs), ("loaded", summary.loaded), ("unchanged (skipped)", summary.unchanged),
        ("duplicate", summary.duplicate), ("quarantined", summary.quarantined),
        ("re-cleaned", summary.recleaned), ("re-extracted", summary.reextracted),
        ("documents", summary.documents), ("entity mentions", summary.entity_mentions),
        ("location mentions", summary.location_mentions), ("actor mentions", summary.actor_mentions),
        ("gates passed", len(summary.gates)), ("published", summary.published), ("seconds", summary.seconds))]
    create_table_artifact(key="newsfacts-run-summary", table=rows, description=f"{title}: what the run did")
    gates_md = "\n".join(f"- {g}" for g in summary.gates) or "- none run"
    links = f"- Data Docs: [{summary.data_docs}](file://{summary.data_docs})"
    if summary.report:
        links += f"\n- Report: [{summary.report}](file://{summary.report})"
    create_markdown_artifact(
        key="newsfacts-run-report", description=f"{title}: report",
        markdown=(f"# {title}\n\n" + "\n".join(f"- {line}" for line in summary.lines()) +
                  f"\n\n## Quality gates\n{gates_md}\n\n## Links\n{links}\n"))


def configured_flow(settings: Settings | None = None):
    """The flow with the configured task runner attached."""
    return newsfacts_flow.with_options(task_runner=task_runner(settings or Settings()))


def _run_name() -> str:
    p = flow_run.parameters or {}
    stages = p.get("stages") or list(ALL_STAGES)
    what = "all stages" if list(stages) == list(ALL_STAGES) else "+".join(stages)
    where = (p.get("source") or "default source") if "ingest" in stages else "stored documents, no source read"
    dates = [f"{k.replace('_', ' ')} {p[k]}" for k in ("ingested_from", "ingested_to", "published_from",
                                                         "published_to") if p.get(k)]
    return " · ".join(["newsfacts", what, str(where)] + dates + (["force"] if p.get("force") else []))


def task_runner(settings: Settings):
    """Threads by default; Dask (a given scheduler, or a local cluster of processes) from configuration."""
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": settings.parallelism, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    if settings.task_runner != "threads":
        raise ValueError(f"unknown task runner {settings.task_runner!r} (expected 'threads' or 'dask')")
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max(1, settings.parallelism))


# A day typed into the Prefect form: a date field in the UI, empty by default (the UI sends the default back,
# and null would need a union that it renders as a "None" tab), refused before the run exists when
# malformed (the server checks patterns, not JSON Schema formats).
Day = Annotated[date | None, BeforeValidator(lambda v: v or None),
                WithJsonSchema({"type": "string", "format": "date", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"})]


# The task runner comes from configuration (NEWSFACTS_TASK_RUNNER, ...) when the module is imported, so
# runs started by ``newsfacts serve`` in their own processes use the same runner as the command line.
@flow(name="newsfacts", flow_run_name=_run_name, log_prints=True, validate_parameters=True,
      task_runner=task_runner(Settings()))
def newsfacts_flow(source: str = "", warehouse_path: str = "", force: bool = False, batch_size: int = 0,
                   stages: list[Stage] = list(ALL_STAGES),  # noqa: B006 - Prefect copies parameters per run
                   ingested_from: Day = "", ingested_to: Day = "", published_from: Day = "", published_to: Day = ""):
    """Ingest news files and publish a gated DuckDB warehouse of actor and location facts.

    Args:
        source: Folder or glob of news files, e.g. 2026-11-*/*.html; empty means the configured source.
            From a deployment it must lie inside the allowed source folders or the inbox.
        warehouse_path: DuckDB file to publish; empty means the configured warehouse (the only choice
            from a deployment).
        force: Reprocess inputs even when their content is unchanged, and the whole date range below.
        batch_size: Documents per batch and transaction; 0 means the configured size.
        stages: Stages to run, e.g. only transform after a gazetteer update, or entities and transform
            after a model update. Without ingest no source is read.
        ingested_from: Reprocess stored documents ingested on or after this day (YYYY-MM-DD).
        ingested_to: Reprocess stored documents ingested on or before this day (YYYY-MM-DD).
        published_from: Reprocess stored documents published on or after this day (YYYY-MM-DD).
        published_to: Reprocess stored documents published on or before this day (YYYY-MM-DD).
    """
    settings = Settings().with_overrides(warehouse=warehouse_path or None, batch_size=batch_size or None)
    chosen = tuple(s for s in ALL_STAGES if s in (stages or ALL_STAGES))
    try:
        folder, pattern = _source(settings, source, warehouse_path, reads="ingest" in chosen)
        summary = run_pipeline(settings.with_overrides(source=folder), run_id=str(flow_run.get_id() or uuid.uuid4()),
                               force=force, stages=chosen, pattern=pattern,
                               selection=Selection(*(d or None for d in (ingested_from, ingested_to, published_from,
                                                                        published_to))))
    except sources.SourceRefused as exc:  # a refusal is one line, not a traceback
        return Failed(message=f"{ENDED_BY_CHOICE[0]}{exc}")
    except lock.WriterBusy as exc:  # an overlapping run is a normal event: this one steps aside
        return Cancelled(message=f"{ENDED_BY_CHOICE[1]}{exc}")
    publish_artifacts(summary, flow_run.get_name() or "newsfacts run")
    return summary.__dict__


class _EndedByChoice(logging.Filter):
    """Drops the traceback Prefect's engine logs after a deployment run that this flow ended itself, Failed
    with a refusal or Cancelled by an overlap: "Finished in state Failed('refused: …')" already says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (type(exc).__name__ in ("FailedRun", "CancelledRun") and str(exc).startswith(ENDED_BY_CHOICE))


ENDED_BY_CHOICE = ("refused: ", "skipped: ")
logging.getLogger("prefect.flow_runs").addFilter(_EndedByChoice())


def _source(settings: Settings, source: str, warehouse_path: str, reads: bool) -> tuple[Path | None, str | None]:
    """The folder and glob a run reads; parameters from a deployment's form may only name allowed folders."""
    from_deployment = deployment.id is not None
    if from_deployment and warehouse_path and Settings().warehouse.resolve() != settings.warehouse.resolve():
        raise sources.SourceRefused("a deployment run publishes only the configured warehouse "
                                    f"({Settings().warehouse}); leave warehouse_path empty")
    if not reads:
        return None, None
    roots = (*settings.source_roots, settings.inbox) if from_deployment else None
    return sources.resolve(source or settings.source, roots)
