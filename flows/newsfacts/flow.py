"""The newsfacts Prefect flow: it wires stages, batches, gates, the writer lock and publishing; no stage logic.

One run, holding the single-writer lock, on the working database:

1. ingest the source in batches; per batch, inside one transaction:
   ingest → gate → clean → gate → stories → entities → gate → commit;
2. catch up: documents cleaned or extracted by another pipeline version, NER model or gazetteer
   version (lineage columns on ``documents``) are recomputed, in batches, the same way;
3. when anything changed: the SQL models in ``sql/`` → gates on the marts → accounting gates →
   atomic publish of a read-only snapshot, plus Prefect artifacts (summary table, report).

The heavy, pure stages (clean, entities) are submitted to the task runner in slices, so they run on threads
or on a Dask cluster; everything that writes (:mod:`loads`) stays in this process (one writer). A failed gate
rolls its batch back and stops the run before anything is published. What a run did and whether it must
publish is :mod:`runs`' business; the report and artifacts are :mod:`report`'s.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment, flow_run
from prefect.states import Cancelled, Failed
from pydantic import BeforeValidator, WithJsonSchema

from newsfacts import faults, gates, ingest, loads, lock, runs, sources, warehouse
from newsfacts.config import PIPELINE_VERSION, Settings
from newsfacts.progress import Progress
from newsfacts.rawstore import RawStore
from newsfacts.runs import Lineage, RunSummary, Selection

Stage = Literal["ingest", "clean", "entities", "transform"]
ALL_STAGES: tuple[Stage, ...] = ("ingest", "clean", "entities", "transform")
# Tables each stage writes, validated on the stage's batch before the next stage runs.
BATCH_GATES = {
    "ingest": ["raw_documents"],
    "clean": ["documents"],
    "entities": list(loads.ENTITY_TABLES),
}
MART_GATES = ["dim_location", "fact_location_mention", "dim_actor", "fact_actor_mention"]


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


# --- gates ---------------------------------------------------------------------------------------------

def _gate(con, settings: Settings, run_id: str, stage: str, tables: list[str], keys=None,
          slice_size: int | None = None) -> None:
    """Validate the batch's rows of each table (``slice_size`` keys at a time, if given); on a failure roll
    the open transaction back, keep the record, stop the run."""
    results = gates.validate_all(con, tables, stage, run_id, settings.expectations_dir, settings.gx_root, keys,
                                 slice_size)
    failed = [g for g in results if not g.success]
    if failed:
        con.execute("rollback")
        con.execute("begin")
        gates.record(con, results)
        con.execute("commit")
        gates.require(failed[0])
    gates.record(con, results)


# --- one batch, stage by stage (the writer's steps run here; compute goes to the task runner) --------------
# ``clean_batch`` / ``entities_batch`` are plain functions, not tasks: the heavy tasks they submit must be
# submitted from the flow's context, which (unlike a task's) holds no DuckDB connection to serialise.

@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(con, settings: Settings, run_id: str, items, processed: set[str], seen: set[str],
                force: bool) -> list[str]:
    """Read one batch of files into ``raw_documents`` / ``quarantine`` / ``input_files``; the new hashes."""
    batch = ingest.ingest_batch(items, processed, seen, run_id, settings.max_file_bytes,
                                settings.max_decompressed_bytes, force=force)
    loads.store_raw(RawStore(settings.raw_store), batch)  # bytes on disk before a row can name them
    faults.checkpoint("raw")
    hashes = loads.write_ingested(con, batch)
    if hashes:  # an all-unchanged batch wrote no row to validate
        _gate(con, settings, run_id, "ingest", BATCH_GATES["ingest"], hashes)
    return hashes


def clean_batch(con, settings: Settings, run_id: str, hashes: list[str]) -> list[str]:
    """Clean the batch's raw documents on the task runner, load and gate them; the document ids."""
    docs, rejected = [], []
    rows = loads.raw_rows(con, hashes, RawStore(settings.raw_store))
    for d, r in _fan_out(clean_task, rows, settings.parallelism, run_id):
        docs += d
        rejected += r
    doc_ids = loads.write_documents(con, run_id, hashes, docs, rejected)
    _gate(con, settings, run_id, "clean", BATCH_GATES["clean"], doc_ids)
    return doc_ids


@task(name="stories", cache_policy=NO_CACHE)
def stories_task(con, doc_ids: list[str]) -> int:
    """Group the batch's documents with earlier editions of the same story."""
    return loads.group_stories(con, doc_ids)


def entities_batch(con, settings: Settings, run_id: str, doc_ids: list[str], lineage: Lineage) -> None:
    """Extract entities on the task runner, load them with their lineage, gate them."""
    tables: dict[str, list[dict]] = {t: [] for t in loads.ENTITY_TABLES}
    for part in _fan_out(entities_task, loads.entity_inputs(con, doc_ids), settings.parallelism, settings):
        for t, rows in part.items():
            tables[t] += rows
    loads.write_entities(con, run_id, doc_ids, tables, lineage)
    _gate(con, settings, run_id, "entities", BATCH_GATES["entities"], doc_ids)


@task(name="transform", cache_policy=NO_CACHE)
def transform_task(con, settings: Settings, run_id: str) -> list[str]:
    """Run the SQL models after the head (the fact marts for the pending documents, the dimensions whole),
    then gate every mart before anything can be published."""
    models = warehouse.run_models(con, settings.sql_dir, "tail", True, settings.transform_chunk)
    # each fact suite validates the rows of the documents rebuilt in its table (a full rebuild lists every
    # document; an actor key a new document changed rebuilds an old one's actor facts), a chunk of documents
    # at a time so memory stays flat; dims whole
    for table, rebuilt in warehouse.rebuilt_documents(con, settings.sql_dir, MART_GATES).items():
        _gate(con, settings, run_id, "transform", [table], rebuilt, settings.transform_chunk)
    return models


# --- one run: batches, transactions, catch-up, transform, publish ------------------------------------------

def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _warm_up(settings: Settings) -> None:
    """Start-up work off the critical path (a background thread): GX's context, the date parser's tables."""
    from newsfacts import clean

    gates.warm_up(settings.gx_root)
    with contextlib.suppress(Exception):  # the first page that needs the parser meets the error itself
        clean.warm_up()


class _Run:
    """One run on the working database: the order of stages, batches and transactions."""

    def __init__(self, con, settings: Settings, summary: RunSummary, lineage: Lineage, stages: tuple[Stage, ...],
                 logger):
        self.con, self.settings, self.summary, self.lineage = con, settings, summary, lineage
        self.run_id, self.stages, self.log = summary.run_id, stages, logger
        self._warming: threading.Thread | None = None

    def warm_up(self) -> None:
        """Once there is work: import GX and build the date parser's tables in the background (seconds of
        start-up that a run with nothing new never pays)."""
        if self._warming is None:
            self._warming = threading.Thread(target=_warm_up, args=(self.settings,), daemon=True)
            self._warming.start()

    def _timed(self, stage: str, fn, *args):
        faults.checkpoint(stage)
        t = time.monotonic()
        try:
            return fn(*args)
        finally:
            self.summary.timed(stage, t)

    def batch(self, hashes: list[str], clean: bool, progress: Progress, files: int,
              doc_ids: list[str] | None = None) -> None:
        """Clean (optional), group into stories, extract: one batch, in the caller's transaction."""
        con, s, run_id = self.con, self.settings, self.run_id
        doc_ids = doc_ids or []
        if clean and "clean" in self.stages:
            progress.start("clean")
            doc_ids = self._timed("clean", clean_batch, con, s, run_id, hashes) if hashes else []
            if doc_ids:
                self._timed("stories", stories_task, con, doc_ids)
            progress.advance("clean", files)
        if "entities" in self.stages:
            progress.start("entities")
            if doc_ids:
                self._timed("entities", entities_batch, con, s, run_id, doc_ids, self.lineage)
            progress.advance("entities", files)

    def ingest(self, source: Path, pattern: str | None, force: bool) -> None:
        """Read the source's new and changed files in batches; files known by their stamp are not opened."""
        con = self.con
        processed, seen = runs.processed_hashes(con), set()
        items = [i for i in ingest.list_inputs(source) if sources.matches(i[0], source, pattern)]
        self.summary.inputs = len(items)
        self.log.info("%d inputs under %s%s", len(items), source, f" matching {pattern}" if pattern else "")
        with Progress(len(items), log=self.log.info) as progress:
            if not force:
                t = time.monotonic()
                items, stamps = ingest.screen_unchanged(items, runs.known_stamps(con, processed), seen, self.run_id)
                self.summary.unread = len(stamps)
                loads.write_stamps(con, stamps)
                self.summary.timed("ingest", t)
                progress.skip("ingest", self.summary.inputs - len(items))
            if items:
                self.warm_up()
            for part in _chunks(items, self.settings.batch_size):
                con.execute("begin")
                hashes = self._timed("ingest", ingest_task, con, self.settings, self.run_id, part, processed, seen,
                                     force)
                progress.advance("ingest", len(part))
                self.batch(hashes, clean=True, progress=progress, files=len(part))
                con.execute("commit")

    def catch_up(self, selection: Selection, force: bool) -> None:
        """Recompute documents made by other versions, plus everything a backfill selected."""
        pick = force or selection.any
        if "clean" in self.stages:
            stale = runs.stale_raw(self.con, selection, self.lineage, pick, self.run_id)
            self._redo(stale, clean=True)
            self.summary.recleaned = len(stale)
        if "entities" in self.stages:
            redo = runs.stale_entities(self.con, selection, self.lineage, pick, self.run_id)
            self._redo(redo, clean=False)
            self.summary.reextracted = len(redo)

    def _redo(self, keys: list[str], clean: bool) -> None:
        if keys:
            self.warm_up()
        with Progress(len(keys), log=self.log.info) as progress:
            for part in _chunks(keys, self.settings.batch_size):
                self.con.execute("begin")
                self.batch(part if clean else [], clean=clean, progress=progress, files=len(part),
                           doc_ids=None if clean else part)
                self.con.execute("commit")

    def finish(self, publish: bool, force: bool) -> None:
        """Transform and gate (when publishing), gate the accounting, record the run.

        The per-document models rebuild only the documents this run (or an unpublished earlier one) changed
        (and those whose actor keys a new document changed), unless the models changed or a rebuild was asked
        for; the cross-document models and the dimensions are always rebuilt whole."""
        con, run_id = self.con, self.run_id
        transform = publish and "transform" in self.stages
        if publish:
            self.warm_up()
        t = time.monotonic()
        if transform:
            faults.checkpoint("transform")
            # The models that read no mart hold most rows (every candidate place of every mention);
            # inside the transaction they stay pinned in DuckDB's capped memory until the commit (out of
            # memory on 10,000 documents), so they are committed first, slice by slice. Nothing is published
            # unless the marts' gates below pass.
            whole = not runs.prepare_transform(con, self.settings, self.stages, force)
            pending = con.execute(f"select count(distinct doc_id) from {warehouse.PENDING}").fetchone()[0]
            self.log.info(f"transform: per-document models for {pending} {'' if whole else 'changed '}documents")
            warehouse.run_models(con, self.settings.sql_dir, "head", True, self.settings.transform_chunk)
        con.execute("begin")
        if transform:
            transform_task(con, self.settings, run_id)
        if publish:  # while pending_transform still lists every document this run changed
            warehouse.record_publish(con, run_id)
        if transform:
            con.execute(f"delete from {warehouse.PENDING}")
            self.summary.timed("transform", t)
        # Accounting gates on what this run wrote; a run that found nothing new wrote only 'unchanged' stamps,
        # and validating those would cost GX's start-up for nothing.
        _gate(con, self.settings, run_id, "accounting",
              [table for table, n in runs.written(con, run_id).items() if n or publish], [run_id])
        runs.finish(con, self.summary, publish)
        con.execute("commit")
        con.execute("checkpoint")


def run_pipeline(settings: Settings, *, run_id: str | None = None, force: bool = False,
                 stages: tuple[Stage, ...] = ALL_STAGES, selection: Selection | None = None,
                 pattern: str | None = None, logger=None) -> RunSummary:
    """The whole run under the writer lock: ingest, catch up, transform, gate, publish."""
    from newsfacts import gazetteer, report

    started = time.monotonic()
    logger = logger or get_run_logger()
    summary = RunSummary(run_id=run_id or str(uuid.uuid4()), warehouse=str(settings.warehouse))
    with lock.writer_lock(settings.work_dir, summary.run_id, wait=settings.lock_wait):
        t = time.monotonic()
        lineage = Lineage(PIPELINE_VERSION, runs.ner_model_version(settings.spacy_model),
                          gazetteer.ensure_gazetteer(settings.gazetteer))
        summary.timed("gazetteer", t)
        con = runs.open_working(settings)
        try:
            runs.start(con, settings, summary.run_id, lineage, stages)
            run = _Run(con, settings, summary, lineage, stages, logger)
            if "ingest" in stages:
                run.ingest(settings.source, pattern, force)
            run.catch_up(selection or Selection(), force and "ingest" not in stages)
            runs.tally(con, summary)
            publish = runs.needs_publish(con, settings, summary, stages, force)
            run.finish(publish, force)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            with contextlib.suppress(duckdb.Error):
                runs.failed(con, summary.run_id)
            raise
        finally:
            con.close()
        if publish:
            faults.checkpoint("publish")
            t = time.monotonic()
            how = warehouse.publish(settings.working_db, settings.warehouse,
                                    warehouse.per_document_tables(settings.sql_dir),
                                    copy_mib=settings.publish_copy_mib,
                                    mib_per_document=settings.publish_mib_per_document)
            summary.timed("publish", t)
            summary.publish_mode = (f"the standby copy updated, documents rewritten: {how['documents']}"
                                    if how["mode"] == "documents" else f"whole copy ({how['reason']})")
    summary.data_docs = str(gates.data_docs_index(settings.gx_root))
    if summary.published:
        summary.report = report.write_run_report(settings, summary.run_id, logger)
    summary.seconds = round(time.monotonic() - started, 1)
    for line in summary.lines():
        logger.info(line)
    return summary


# --- the flow and its parameters ---------------------------------------------------------------------------

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
    from newsfacts import report

    report.run_artifacts(summary, flow_run.get_name() or "newsfacts run")
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
