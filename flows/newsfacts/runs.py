"""The bookkeeping of one run: what it did (``RunSummary``), which versions made a row (``Lineage``), which
stored documents a backfill picks (``Selection``), and its record in ``pipeline_runs``.

The flow asks this module what is stale or unread and whether to publish; it never writes SQL itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata

import duckdb

from newsfacts import warehouse
from newsfacts.config import Settings


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
    publish_mode: str = ""  # how publishing went: the changed documents rewritten, or a whole copy and why
    gates: list[str] = field(default_factory=list)
    warehouse: str = ""
    data_docs: str = ""
    report: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, started: float) -> None:
        self.stage_seconds[stage] = round(self.stage_seconds.get(stage, 0.0) + time.monotonic() - started, 3)

    def lines(self) -> list[str]:
        state = "nothing changed: the published warehouse was left as it is" if not self.published else \
            f"published: {self.publish_mode}" if self.publish_mode else "published"
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
    """A digest of the SQL models, the suites and the place ranker: when one changes, the marts are rebuilt
    and published."""
    digest = hashlib.sha256()
    for root in (settings.sql_dir, settings.expectations_dir):
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".sql", ".json"):
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    if settings.places_model.exists():
        digest.update(b"places_model\0" + settings.places_model.read_bytes())
    return digest.hexdigest()[:16]


def ner_model_version(name: str) -> str:
    """The NER model's identity for lineage: package name and installed version, without loading it."""
    for dist in (name, name.replace("_", "-")):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return f"{name}=={metadata.version(dist)}"
    return name


def open_working(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The working database with its intermediate models attached; seeded from the published warehouse when
    it is missing. Raw bytes a warehouse still holds in its tables are moved to the raw store first, and
    intermediate models it still holds to their own file (both once)."""
    from newsfacts import rawstore

    work = settings.working_db
    work.parent.mkdir(parents=True, exist_ok=True)
    if not work.exists():
        # intermediate rows belong to the working database they were built from; a new one rebuilds them
        for stale in (settings.intermediate_db, settings.intermediate_db.with_name(
                settings.intermediate_db.name + ".wal")):
            stale.unlink(missing_ok=True)
        if settings.warehouse.exists():
            shutil.copyfile(settings.warehouse, work)
    con = warehouse.connect(work, gazetteer=settings.gazetteer, memory_limit=settings.duckdb_memory)
    if warehouse.held_intermediate(con, settings.sql_dir):  # once, on a warehouse from before the file
        con.close()
        warehouse.move_intermediate_out(work, settings.sql_dir)
        con = warehouse.connect(work, gazetteer=settings.gazetteer, memory_limit=settings.duckdb_memory)
    warehouse.attach_intermediate(con, settings.intermediate_db)
    rawstore.migrate(con, rawstore.RawStore(settings.raw_store))
    return con


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def start(con, settings: Settings, run_id: str, lineage: Lineage, stages: tuple[str, ...]) -> None:
    """Record the run as running. The caller holds the writer lock, so a run still marked running was killed."""
    con.execute("update pipeline_runs set status = 'abandoned' where status = 'running'")
    con.execute("insert or replace into pipeline_runs (run_id, started_at, status, source, pipeline_version, "
                "ner_model, gazetteer_version, stages, models_version) values (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                [run_id, _now(), str(settings.source) if "ingest" in stages else None, lineage.pipeline_version,
                 lineage.ner_model, lineage.gazetteer_version, ",".join(stages), models_version(settings)])


def failed(con, run_id: str) -> None:
    con.execute("update pipeline_runs set finished_at = ?, status = 'failed' where run_id = ?", [_now(), run_id])


def processed_hashes(con) -> set[str]:
    """Content already made into a document or quarantined: never read again unless forced."""
    return {h for (h,) in con.execute("select content_hash from documents union select content_hash from quarantine "
                                      "where content_hash is not null").fetchall()}


def known_stamps(con, processed: set[str]) -> dict[str, tuple[str, str]]:
    """The last file stamp and content hash of each input whose content was processed."""
    return {uri: (stamp, h) for uri, stamp, h in con.execute(
        "select source_uri, file_stamp, content_hash from input_files "
        "qualify row_number() over (partition by source_uri order by seen_at desc) = 1").fetchall()
        if stamp is not None and h in processed}


def stale_raw(con, selection: Selection, lineage: Lineage, pick: bool, run_id: str) -> list[str]:
    """Raw documents to clean (again): never cleaned (ingested by a run without the clean stage), cleaned by
    another pipeline version, or picked by a backfill (once per run)."""
    where, params = selection.where()
    return [h for (h,) in con.execute(
        f"select r.content_hash from raw_documents r left join documents d using (content_hash) "
        f"where {where} and r.content_hash not in (select content_hash from quarantine "
        f"where content_hash is not null) and (d.doc_id is null or d.pipeline_version <> $5 "
        f"or ($6 and d.run_id is distinct from $7)) order by 1",
        params + [lineage.pipeline_version, pick, run_id]).fetchall()]


def stale_entities(con, selection: Selection, lineage: Lineage, pick: bool, run_id: str) -> list[str]:
    """Documents whose entities another pipeline version, NER model or gazetteer made, or a backfill picked."""
    where, params = selection.where()
    return [d for (d,) in con.execute(
        f"select d.doc_id from documents d join raw_documents r using (content_hash) where {where} and "
        f"(($6 and d.entities_run_id is distinct from $8) or d.entities_version is distinct from $5 "
        f"or d.ner_model is distinct from $7 or d.gazetteer_version is distinct from $9) order by 1",
        params + [lineage.pipeline_version, pick, lineage.ner_model, run_id, lineage.gazetteer_version]
    ).fetchall()]


def models_current(con, settings: Settings) -> bool:
    """Whether the last published build used the SQL models, suites and place ranker configured now."""
    built = con.execute("select models_version from pipeline_runs where status = 'published' "
                        "order by started_at desc limit 1").fetchone()
    return built is not None and built[0] == models_version(settings)


def prepare_transform(con, settings: Settings, stages: tuple[str, ...], force: bool) -> bool:
    """Whether this run's transform may rebuild only the pending documents' per-document models. When forced
    or transform-only (an explicit rebuild), when a model table is missing, or when the SQL models, suites or
    place ranker differ from those of the last published build, every document is made pending instead;
    returns False then."""
    have = warehouse.model_tables(con)
    if (not force and "ingest" in stages and set(warehouse.incremental_models(settings.sql_dir)) <= have
            and models_current(con, settings)):
        return True
    warehouse.reset_incremental(con, settings.sql_dir)
    return False


def tally(con, summary: RunSummary) -> None:
    """Loaded and quarantined inputs of this run, as ``input_files`` accounts them."""
    summary.loaded, summary.quarantined = con.execute(
        "select count(*) filter (status = 'loaded'), count(*) filter (status = 'quarantined') "
        "from input_files where run_id = ?", [summary.run_id]).fetchall()[0]


def needs_publish(con, settings: Settings, summary: RunSummary, stages: tuple[str, ...], force: bool) -> bool:
    """Publish when this run changed something, or an earlier run committed work it never published."""
    s = summary
    if force or s.loaded or s.quarantined or s.recleaned or s.reextracted or not settings.warehouse.exists():
        return True
    if "ingest" not in stages:
        return True  # an explicit reprocessing backfill always rebuilds and publishes
    last = con.execute("select status from pipeline_runs where run_id <> ? order by started_at desc limit 1",
                       [s.run_id]).fetchone()
    if last is None or last[0] not in ("published", "unchanged"):
        return True
    # Changed SQL models (or suites) must reach analysts even when no input changed.
    if not models_current(con, settings):
        return True
    # Per-document models missing (the intermediate file was removed, or they were just moved out of an older
    # working database): rebuilt and published now rather than at the next change.
    if not set(warehouse.incremental_models(settings.sql_dir)) <= warehouse.model_tables(con):
        return True
    # A run killed between committing its 'published' status and renaming the snapshot into place
    # left work the published file lacks: compare the last published run of both files.
    return _last_published(con) != _published_file_last_run(settings)


def _last_published(con) -> str | None:
    row = con.execute("select run_id from pipeline_runs where status = 'published' "
                      "order by started_at desc limit 1").fetchone()
    return row[0] if row else None


def _published_file_last_run(settings: Settings) -> str | None:
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return _last_published(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def written(con, run_id: str) -> dict[str, int]:
    """Rows this run wrote to the accounting tables (unchanged stamps are not news)."""
    inputs, quarantined = con.execute(
        "select (select count(*) from input_files where run_id = $1 and status <> 'unchanged'), "
        "(select count(*) from quarantine where run_id = $1)", [run_id]).fetchall()[0]
    return {"input_files": inputs, "quarantine": quarantined}


def finish(con, summary: RunSummary, publish: bool) -> None:
    """Count what the run did from the warehouse itself and record the run's outcome (caller commits)."""
    run_id = summary.run_id
    for status, n in con.execute("select status, count(*) from input_files where run_id = ? group by all",
                                 [run_id]).fetchall():
        setattr(summary, status, n)
    summary.loaded -= con.execute("select count(*) from quarantine where run_id = ? and stage <> 'ingest'",
                                  [run_id]).fetchone()[0]
    summary.quarantined = con.execute("select count(*) from quarantine where run_id = ?", [run_id]).fetchone()[0]
    marts = bool(con.execute("select count(*) from duckdb_tables() where table_name = 'fact_actor_mention' "
                             "and database_name = current_database()").fetchone()[0])
    counts = con.execute("""select (select count(*) from documents), (select count(*) from entity_mentions),
                                   (select count(*) from fact_location_mention),
                                   (select count(*) from fact_actor_mention)""").fetchone() if marts else (
        con.execute("select count(*) from documents").fetchone()[0], 0, 0, 0)
    summary.documents, summary.entity_mentions, summary.location_mentions, summary.actor_mentions = counts
    summary.gates = [f"{t}: passed" for (t,) in con.execute(
        "select distinct table_name from dq_results where run_id = ?", [run_id]).fetchall()]
    summary.published = publish
    con.execute("update pipeline_runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
                [_now(), "published" if publish else "unchanged", json.dumps(summary.__dict__), run_id])
