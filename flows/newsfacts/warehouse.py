"""DuckDB: schema, bulk loads, the SQL model runner, and publishing a read-only snapshot.

The pipeline writes only to a *working* database. At the end of a successful, gated run the
working database is copied to a temporary file beside the published warehouse and renamed over
it, so analysts holding the published file open are never blocked and never see half a run.
The intermediate models that read no mart (the toponym models) live in a second working file,
attached as ``intermediate``: they are two thirds of the rows, only the transform reads them, and keeping
them out of the working database keeps them out of every copy that publishing makes.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

from newsfacts import dictionary, ranker

SCHEMA = Path(__file__).with_name("schema.sql")
LAYERS = ("staging", "intermediate", "marts", "views")
INTERMEDIATE = "intermediate"  # the attached database of the intermediate models (see attach_intermediate)


def connect(path: Path, gazetteer: Path | None = None, read_only: bool = False,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open a warehouse, create the stage tables, attach the gazetteer as ``gaz`` if given.

    ``memory_limit`` caps DuckDB's buffer pool (e.g. "1GB"); larger work spills to a temporary folder.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    if not read_only:
        con.execute(SCHEMA.read_text())
    if gazetteer is not None:
        con.execute(f"attach '{_quote(gazetteer)}' as gaz (read_only)")
    return con


def _quote(p: Path) -> str:
    return str(p).replace("'", "''")


def attach_intermediate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Attach the file of intermediate models as ``intermediate``; unqualified names find its tables after the
    connection's own, so the models' SQL reads them unchanged. :func:`run_models` builds them there."""
    con.execute(f"attach '{_quote(path)}' as {INTERMEDIATE}")
    db = con.execute("select current_database()").fetchone()[0]
    con.execute(f"set search_path = '{db}.main,{INTERMEDIATE}.main'")


def intermediate_models(sql_dir: Path) -> list[str]:
    """The models kept in the intermediate file: the staging and intermediate models that read no mart or
    view, directly or through another model (the toponym models, the sentences that name a place).
    Intermediate models that read a mart (the actor models) run inside the marts' transaction, which can
    write to one database only, so they stay in the working database."""
    return [name for name, _, _ in _head(discover_models(sql_dir))]


def _head(models: list[tuple[str, str, Path]]) -> list[tuple[str, str, Path]]:
    """The models (in run order) that come before any mart: neither a mart or view nor reading one."""
    texts = {name: _strip_comments(path.read_text()) for name, _, path in models}
    tail: set[str] = set()
    for name, _, path in models:  # run order: a model's dependencies are classified before it
        if path.parent.name in ("marts", "views") or any(
                _reads(texts[name], t) for t in tail):
            tail.add(name)
    return [m for m in models if m[0] not in tail]


def held_intermediate(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> list[str]:
    """Intermediate models the connection's own database still holds (built before they had their own file)."""
    held = {t for (t,) in con.execute("select table_name from duckdb_tables() "
                                      "where database_name = current_database()").fetchall()}
    return [name for name in intermediate_models(sql_dir) if name in held]


def move_intermediate_out(path: Path, sql_dir: Path) -> list[str]:
    """Drop the intermediate models a working database still holds (:func:`held_intermediate`) and compact the
    file, which DuckDB never shrinks; returns the tables dropped. The next transform rebuilds them in the
    intermediate file, since they are missing there."""
    if not path.exists():
        return []
    con = duckdb.connect(str(path))
    try:
        legacy = held_intermediate(con, sql_dir)
        for name in legacy:
            con.execute(f"drop table {name}")
    finally:
        con.close()
    if legacy:
        compacted = path.with_name(f".{path.name}.compacting")
        compacted.unlink(missing_ok=True)
        con = duckdb.connect(str(compacted))
        try:
            con.execute(f"attach '{_quote(path)}' as legacy (read_only)")
            con.execute(f'copy from database legacy to "{con.execute("select current_database()").fetchone()[0]}"')
        finally:
            con.close()
        os.replace(compacted, path)
    return legacy


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, key: str = "doc_id",
                 keys: Iterable[str] | None = None) -> int:
    """Delete the rows of ``keys`` (default: the keys present in ``df``) then bulk-insert ``df``.

    Deleting first makes every stage idempotent: re-running a batch replaces its rows.
    """
    keys = sorted(set(df[key]) if keys is None else set(keys))
    if keys:
        con.register("_nf_keys", pd.DataFrame({"k": keys}))
        con.execute(f"delete from {table} where {key} in (select k from _nf_keys)")
        con.unregister("_nf_keys")
    if len(df):
        cols = ", ".join(df.columns)
        con.register("_nf_rows", df)
        con.execute(f"insert into {table} ({cols}) select {cols} from _nf_rows")
        con.unregister("_nf_rows")
    return len(df)


def append_rows(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> int:
    """Bulk-insert a DataFrame (never executemany: it is ~500 rows/s here)."""
    if len(df):
        cols = ", ".join(df.columns)
        con.register("_nf_rows", df)
        con.execute(f"insert into {table} ({cols}) select {cols} from _nf_rows")
        con.unregister("_nf_rows")
    return len(df)


def discover_models(sql_dir: Path) -> list[tuple[str, str, Path]]:
    """All models as (name, kind, path), ordered so that every model runs after those it references.

    A model's dependencies are the other model names that appear as words in its SQL, the way
    dbt's ``ref`` would declare them; the layer order staging → intermediate → marts → views breaks ties.
    """
    models: dict[str, tuple[str, Path, str]] = {}
    for rank, layer in enumerate(LAYERS):
        for path in sorted((sql_dir / layer).glob("*.sql")):
            kind = "view" if layer == "views" else "table"
            models[path.stem] = (kind, path, f"{rank}{path.stem}")
    texts = {name: _strip_comments(p.read_text()) for name, (_, p, _) in models.items()}
    deps = {name: {other for other in models if other != name
                   and _reads(texts[name], other)} for name in models}
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in seen:
            return
        if name in stack:
            raise ValueError(f"SQL models reference each other in a cycle: {' -> '.join(stack + (name,))}")
        for dep in sorted(deps[name], key=lambda d: models[d][2]):
            visit(dep, stack + (name,))
        seen.add(name)
        ordered.append(name)

    for name in sorted(models, key=lambda n: models[n][2]):
        visit(name)
    return [(name, models[name][0], models[name][1]) for name in ordered]


def _reads(sql: str, table: str) -> bool:
    """Whether a model's SQL names a table or model as a word (how dependencies are found, as dbt's ref)."""
    return re.search(rf"\b{re.escape(table)}\b", sql) is not None


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


CONFIG = re.compile(r"^--\s*config:\s*(.+)$", re.M)
PENDING = "pending_transform"  # documents whose per-document models are out of date (schema.sql)


def model_config(path: Path) -> dict[str, str]:
    """A model's ``-- config: key=value ...`` line, as dbt's ``config()``: ``materialized=incremental`` marks a
    per-document model (its rows for a document depend only on that document's rows upstream);
    ``whole=a,b`` names the inputs it reads for every document to compute the rows of the ones it builds (a
    source's other stories), its other inputs holding only the documents built."""
    m = CONFIG.search(path.read_text())
    return dict(item.split("=", 1) for item in m.group(1).split()) if m else {}


def incremental_models(sql_dir: Path) -> list[str]:
    return [name for name, _, path in discover_models(sql_dir)
            if model_config(path).get("materialized") == "incremental"]


def run_models(con: duckdb.DuckDBPyConnection, sql_dir: Path, part: str = "all", incremental: bool = False,
               chunk: int = 2000, timings: dict[str, float] | None = None) -> list[str]:
    """Materialise the SQL models in dependency order; returns the names run.

    ``part`` "head" runs only the unpublished models (staging, intermediate) that read no mart or view,
    "tail" runs all the others, "all" both, head first. With ``incremental``, models
    configured ``materialized=incremental`` rebuild only the documents listed in ``pending_transform``,
    ``chunk`` documents at a time, so time and memory grow with the documents rebuilt and never with their
    square (the caller clears the list once both parts are committed); every other model is rebuilt whole,
    and where per-document models read one, those that read it also rebuild the documents whose rows in it
    changed.
    ``timings``, if given, receives each model's wall seconds.
    """
    models = discover_models(sql_dir)
    feeds, upstream = _feeds(models)
    head = _head(models)
    tail = [m for m in models if m not in head]
    apart = {name for name, _, _ in head} if _attached(con, INTERMEDIATE) else set()
    models = {"all": head + tail, "head": head, "tail": tail}[part]
    if incremental:
        con.execute(f"create or replace temp table _nf_pending as select distinct doc_id from {PENDING} order by 1")
        con.execute("create or replace temp table _nf_changed_by (feed varchar, doc_id varchar)")
    done = []
    own = con.execute("select current_database()").fetchone()[0]
    for name, kind, path in models:
        sql = path.read_text().strip().rstrip(";")
        config = model_config(path)
        db = INTERMEDIATE if name in apart else own
        started = time.perf_counter()
        try:
            if incremental and config.get("materialized") == "incremental":
                whole = set(filter(None, config.get("whole", "").split(",")))
                if unread := sorted(t for t in whole if not _reads(_strip_comments(sql), t)):
                    raise RuntimeError(f"SQL model {path}: whole= names tables it does not read: {', '.join(unread)}")
                todo = _to_rebuild(con, upstream[name])
                # a model that reads other documents whole is built once for all pending ones; with none pending,
                # a model table that does not exist yet (a warehouse with no document) is still created, empty
                size = max(todo, 1) if whole else chunk
                offsets = list(range(0, todo, size)) or ([] if _exists(con, name, db) else [0])
                for offset in offsets:
                    con.execute(f"create or replace temp table _nf_dirty as select doc_id from _nf_todo "
                                f"order by doc_id limit {size} offset {offset}")
                    _run_incremental(con, name, sql, whole, db)
            elif incremental and kind == "table" and name in feeds:
                _rebuild_listing_changes(con, name, sql, db)
            else:
                con.execute(f'create or replace {kind} "{db}".main.{name} as\n{sql}')
                ranker.after_model(con, name, table=f'"{db}".main.{name}')  # the learned ranker's score columns
        except duckdb.Error as exc:
            raise RuntimeError(f"SQL model {path} failed: {exc}") from exc
        done.append(name)
        if timings is not None:
            timings[name] = time.perf_counter() - started
    # `create or replace` drops comments: re-apply the data dictionary so every snapshot explains itself.
    dictionary.apply_comments(con)
    return done


def _feeds(models: list[tuple[str, str, Path]]) -> tuple[set[str], dict[str, set[str]]]:
    """The feeds: whole-rebuilt models that a per-document model reads per document (not ``whole=``), so
    that when one of their rows for an old document changes (a name known from a new document gives an old
    mention its actor), that document must be rebuilt downstream too; and, for each model, the feeds it reads
    that way, directly or through the models it reads: the documents whose rows changed in those feeds are
    rebuilt in it, and only in it."""
    configs = {name: model_config(path) for name, _, path in models}
    texts = {name: _strip_comments(path.read_text()) for name, _, path in models}
    whole = {name: set(c.get("whole", "").split(",")) for name, c in configs.items()}
    per_doc = {name for name, c in configs.items() if c.get("materialized") == "incremental"}
    feeds = {name for name in configs if name not in per_doc and any(
        other != name and name not in whole[other] and _reads(texts[other], name) for other in per_doc)}
    up: dict[str, set[str]] = {}
    for name, _, _ in models:  # run order: what a model reads comes before it
        read = {other for other in up if other != name and other not in whole[name] and _reads(texts[name], other)}
        up[name] = (read & feeds).union(*(up[other] for other in read))
    return feeds, up


def _to_rebuild(con: duckdb.DuckDBPyConnection, feeds: set[str]) -> int:
    """``_nf_todo``: the pending documents, and those whose rows changed in ``feeds``; returns how many."""
    con.execute("create or replace temp table _nf_todo as select doc_id from _nf_pending union "
                "select doc_id from _nf_changed_by where list_contains($feeds, feed)", {"feeds": sorted(feeds)})
    return con.execute("select count(*) from _nf_todo").fetchone()[0]


def rebuilt_documents(con: duckdb.DuckDBPyConnection, sql_dir: Path, models: list[str]) -> dict[str, list[str]]:
    """For each of ``models``, the documents the last incremental :func:`run_models` call on ``con`` rebuilt
    in it: what its gate validates."""
    upstream = _feeds(discover_models(sql_dir))[1]
    rebuilt = {}
    for model in models:
        _to_rebuild(con, upstream[model])
        rebuilt[model] = [d for (d,) in con.execute("select doc_id from _nf_todo order by 1").fetchall()]
    return rebuilt


def _rebuild_listing_changes(con: duckdb.DuckDBPyConnection, name: str, sql: str, db: str) -> None:
    """Rebuild a whole model that per-document models read (a feed, :func:`_feeds`), and list the
    documents whose rows in it changed: in ``_nf_changed_by``, so the per-document models that read it rebuild
    them in this call, and in ``pending_transform``, so a later call (the tail, after the head is committed)
    rebuilds them if this one's work is kept but its own is not. A model whose columns changed, or that was
    missing, lists every document."""
    table, prev = f'"{db}".main.{name}', f'"{db}".main._nf_prev_{name}'
    con.execute(f"drop table if exists {prev}")
    existed = _exists(con, name, db)
    con.execute(f"alter table {table} rename to _nf_prev_{name}" if existed else f"create table {prev} (none int)")
    con.execute(f"create table {table} as\n{sql}")
    ranker.after_model(con, name, table=table)
    shape = [con.execute(f"select column_name, column_type from (describe {t})").fetchall() for t in (table, prev)]
    if "doc_id" not in {c for c, _ in shape[0]}:
        con.execute(f"drop table {prev}")
        return
    # a document's rows as a multiset: their count and the sum of their hashes (one scan of each table, no join
    # of rows: an EXCEPT ALL both ways cost twice the model's own build at 20,000 documents)
    row = ", ".join(f'"{c}"' for c, _ in shape[0])
    prints = [f"select doc_id, count(*) as n, sum(hash({row})) as h from {t} group by doc_id" for t in (table, prev)]
    changed = (f"select doc_id from {table}" if shape[0] != shape[1] else
               f"select doc_id from ({prints[0]}) as a full join ({prints[1]}) as b using (doc_id) "
               f"where a.n is distinct from b.n or a.h is distinct from b.h")
    con.execute(f"create or replace temp table _nf_changed as select distinct doc_id from ({changed}) "
                f"where doc_id not in (select doc_id from _nf_pending)")
    con.execute(f"drop table {prev}")
    con.execute("insert into _nf_changed_by select ?, doc_id from _nf_changed", [name])
    con.execute(f"insert into {PENDING} select doc_id from _nf_changed")


def _run_incremental(con: duckdb.DuckDBPyConnection, name: str, sql: str, whole: set[str], db: str) -> None:
    """Rebuild one per-document model's rows (in database ``db``) for the documents in ``_nf_dirty``: its
    document-keyed inputs, except those it reads ``whole``, are shadowed by temporary views holding only
    those documents, so the model's SQL runs unchanged on them. A model table that does not exist yet is
    created from the first rows built."""
    keyed = dict(con.execute(
        "select table_name, database_name from duckdb_columns() where database_name in (current_database(), ?) "
        "and schema_name = 'main' and column_name = 'doc_id'", [INTERMEDIATE]).fetchall())
    inputs = sorted(t for t in keyed if t != name and t not in whole and _reads(sql, t))
    for table in inputs:
        con.execute(f'create or replace temp view {table} as select * from "{keyed[table]}".main.{table} '
                    f"where doc_id in (select doc_id from _nf_dirty)")
    try:
        body = f"select * from ({sql}) where doc_id in (select doc_id from _nf_dirty)" if whole else sql
        con.execute(f"create or replace temp table _nf_model as\n{body}")
    finally:
        for table in inputs:
            con.execute(f"drop view temp.main.{table}")
    ranker.after_model(con, name, table="temp.main._nf_model")
    if keyed.get(name) == db:
        con.execute(f'delete from "{db}".main.{name} where doc_id in (select doc_id from _nf_dirty)')
        con.execute(f'insert into "{db}".main.{name} by name select * from _nf_model')
    else:
        con.execute(f'create table "{db}".main.{name} as select * from _nf_model')
    con.execute("drop table temp.main._nf_model")


def _exists(con: duckdb.DuckDBPyConnection, table: str, db: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where database_name = ? "
                            "and schema_name = 'main' and table_name = ?", [db, table]).fetchone()[0])


def _attached(con: duckdb.DuckDBPyConnection, db: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_databases() where database_name = ?", [db]).fetchone()[0])


def _databases(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Where models live: the connection's own database, and the intermediate file when attached."""
    return [con.execute("select current_database()").fetchone()[0]] + (
        [INTERMEDIATE] if _attached(con, INTERMEDIATE) else [])


def model_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables of the connection's own database and of its attached intermediate models."""
    return {t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'main' and "
                                      "database_name in (current_database(), ?)", [INTERMEDIATE]).fetchall()}


def reset_incremental(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    """Make the next incremental run rebuild every document: drop the per-document model tables and list
    every document as pending (after a change to the models, or when a rebuild is asked for)."""
    for name in incremental_models(sql_dir):
        for db in _databases(con):
            con.execute(f'drop table if exists "{db}".main.{name}')
    con.execute(f"delete from {PENDING}")
    con.execute(f"insert into {PENDING} select doc_id from documents")


def reference_warehouse(settings) -> duckdb.DuckDBPyConnection:
    """An empty in-memory warehouse with every stage table and SQL model: the shape the dictionary describes.

    Documentation generated from it depends only on the code, never on which data a local warehouse holds.
    """
    from newsfacts.gazetteer import ensure_gazetteer

    ensure_gazetteer(settings.gazetteer)
    con = duckdb.connect(":memory:")
    con.execute(SCHEMA.read_text())
    con.execute(f"attach '{_quote(settings.gazetteer)}' as gaz (read_only)")
    run_models(con, settings.sql_dir)
    return con


# Tables whose rows belong to one document each and change only when that document is listed in
# pending_transform: the stage tables below, the per-document SQL models (``materialized=incremental``) and
# the whole-rebuilt models they read per document (the transform lists the documents whose rows changed there).
DOCUMENT_TABLES = ("documents", "sentences", "entity_mentions", "toponym_mentions", "actor_mentions",
                   "story_signatures", "published_document_versions")
COPIES = ("published-a.duckdb", "published-b.duckdb")  # beside the working file; one is the published file


def per_document_tables(sql_dir: Path) -> tuple[str, ...]:
    """The published tables that publishing updates document by document (see :func:`publish`)."""
    return DOCUMENT_TABLES + tuple(incremental_models(sql_dir)) + tuple(sorted(_feeds(discover_models(sql_dir))[0]))


def record_publish(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Number the publish this run is about to make and stamp the documents it changed with that number.

    Runs in the run's transaction, after the transform and before ``pending_transform`` is cleared: every
    document whose rows a run changed is listed there (loads list their documents; the transform lists the
    old documents whose actor keys changed), so the stamps say which documents a copy published earlier lacks.
    """
    seq = con.execute("select coalesce(max(publish_seq), 0) + 1 from publish_history").fetchone()[0]
    con.execute(f"insert or replace into published_document_versions select distinct doc_id, ? from {PENDING}",
                [seq])
    con.execute("insert into publish_history values (?, ?, timezone('UTC', current_timestamp))", [seq, run_id])
    return seq


class _WholeCopy(Exception):
    """Why the standby copy cannot be brought up to date document by document."""


def publish(working: Path, published: Path, per_document: Iterable[str] = DOCUMENT_TABLES,
            max_share: float = 0.5, copy_mib: float = 0.0, mib_per_document: float = 0.0) -> dict:
    """Atomically make the (closed) working database the published warehouse; returns how.

    Two copies live beside the working file; the published path is a hard link to one of them. The other,
    the standby, is one or two publishes behind: the tables of ``per_document`` are brought up to date by
    rewriting only the documents stamped since its own publish (:func:`record_publish`), the other tables
    (dimensions, lineage, whole models) are rewritten whole, all in one transaction; then the standby is linked
    over the published path. Publishing costs what changed, not what the warehouse holds. The standby is
    copied whole instead when it is missing, when a reader still holds it open (DuckDB's lock says so:
    readers are never written under), when the schema or the data dictionary changed, when it is not an
    earlier state of this working file, or when more than ``max_share`` of the documents changed; and when
    its row counts differ from the working file's after the update (a safety net: that update is rolled back);
    and when the working file holds fewer MiB than ``copy_mib`` plus ``mib_per_document`` times the documents
    to rewrite, where a whole copy costs less (an update has a fixed cost, the whole tables and DuckDB's
    checkpoint, and a cost per document; a copy one per MiB: docs/scale.md has the measurements); and when
    the update fails for any other reason (a damaged copy): it is rolled back and the run still publishes.

    Readers that have the old file open keep reading the old snapshot (its own inode); new connections see
    the new one. Files are fsynced before the rename, so a crash leaves the old or the new warehouse. A
    reader is seen by its DuckDB file lock, which is per process: a connection that the publishing process
    itself holds on the published file is not seen (the flow holds none while it publishes).
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    copies = [working.with_name(name) for name in COPIES]
    active = _inode(published)
    standby = next((c for c in copies if c.exists() and _inode(c) != active), None) \
        or next(c for c in copies if _inode(c) != active or active is None)
    try:
        documents = _bring_up_to_date(standby, working, set(per_document), max_share, copy_mib, mib_per_document)
        how = {"mode": "documents", "documents": documents}
    except _WholeCopy as why:
        _copy_whole(working, standby)
        how = {"mode": "copy", "reason": str(why)}
    except duckdb.Error as e:  # the update failed (rolled back): a whole copy still publishes the run
        _copy_whole(working, standby)
        how = {"mode": "copy", "reason": f"the update failed: {str(e).splitlines()[0][:200]}"}
    _swap_in(standby, published)
    return how


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _layout(con: duckdb.DuckDBPyConnection, db: str) -> list[tuple]:
    """Tables, columns, types, constraints, comments and views of ``db``: what a whole copy would change."""
    return con.execute(
        "select 'column', table_name, column_index::varchar, column_name || ' ' || data_type, coalesce(comment, '') "
        "from duckdb_columns() where database_name = $1 and schema_name = 'main' "
        "union all select 'table', table_name, '', '', coalesce(comment, '') from duckdb_tables() "
        "where database_name = $1 and schema_name = 'main' "
        "union all select 'constraint', table_name, constraint_column_names::varchar, constraint_text, '' "
        "from duckdb_constraints() where database_name = $1 and schema_name = 'main' "
        "union all select 'view', view_name, '', sql, coalesce(comment, '') from duckdb_views() "
        "where database_name = $1 and schema_name = 'main' and not internal order by all", [db]).fetchall()


def _bring_up_to_date(standby: Path, working: Path, per_document: set[str], max_share: float,
                      copy_mib: float, mib_per_document: float) -> int:
    """Rewrite in ``standby`` what changed since its publish; the number of documents rewritten."""
    if not standby.exists():
        raise _WholeCopy("no earlier copy")
    mib = working.stat().st_size / 2**20
    if mib < copy_mib:  # whatever changed: decided without opening the standby
        raise _WholeCopy(f"the file ({mib:.0f} MiB) copies faster than any update")
    try:
        con = duckdb.connect(str(standby))
    except duckdb.IOException as e:
        if "lock" not in str(e).lower():
            raise
        raise _WholeCopy("a reader holds the earlier copy") from e
    try:
        own = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach '{_quote(working)}' as w (read_only)")
        if con.execute("select count(*) from duckdb_tables() where database_name = ? and schema_name = 'main' "
                       "and table_name = 'publish_history'", [own]).fetchone()[0] == 0:
            raise _WholeCopy("the copy has no publish history (published by an older newsfacts)")
        last = con.execute("select publish_seq, run_id from main.publish_history "
                           "order by publish_seq desc limit 1").fetchone()
        if last is None or con.execute("select count(*) from w.publish_history where publish_seq = ? "
                                       "and run_id = ?", list(last)).fetchone()[0] != 1:
            raise _WholeCopy("the copy is not an earlier state of this warehouse")
        changed, total = con.execute(
            "select (select count(*) from w.published_document_versions where publish_seq > $1), "
            "(select count(*) from w.documents)", [last[0]]).fetchone()
        if changed > max_share * max(total, 1):
            raise _WholeCopy(f"{changed} documents changed since that copy, {total} in the warehouse")
        if mib < copy_mib + mib_per_document * changed:
            raise _WholeCopy(f"{changed} documents changed since that copy; the file ({mib:.0f} MiB) copies faster")
        if _layout(con, own) != _layout(con, "w"):
            raise _WholeCopy("the schema or the dictionary changed")
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where database_name = ? "
                                           "and schema_name = 'main' order by 1", [own]).fetchall()]
        keyed = {t for (t,) in con.execute("select table_name from duckdb_columns() where database_name = ? "
                                           "and schema_name = 'main' and column_name = 'doc_id'", [own]).fetchall()}
        per_document = per_document & keyed  # a feed without documents (dim_location) is rewritten whole
        con.execute("begin")
        con.execute("create temp table _nf_delta as select doc_id from w.published_document_versions "
                    "where publish_seq > ?", [last[0]])
        for t in tables:
            if t in per_document:
                con.execute(f'delete from main."{t}" where doc_id in (select doc_id from _nf_delta)')
                con.execute(f'insert into main."{t}" by name select * from w.main."{t}" '
                            f'where doc_id in (select doc_id from _nf_delta)')
            else:
                con.execute(f'delete from main."{t}"')
                con.execute(f'insert into main."{t}" by name select * from w.main."{t}"')
        for t in tables:
            mine, theirs = con.execute(f'select (select count(*) from main."{t}"), '
                                       f'(select count(*) from w.main."{t}")').fetchone()
            if mine != theirs:
                con.execute("rollback")
                raise _WholeCopy(f"{t}: {mine} rows after the update, {theirs} in the working file")
        con.execute("commit")
        con.execute("detach w")
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(standby)
    return changed


def _copy_whole(working: Path, standby: Path) -> None:
    """Replace ``standby`` with a copy of ``working`` (a reader holding the old one keeps its inode)."""
    tmp = standby.with_name(f".{standby.name}.copying")
    try:
        shutil.copyfile(working, tmp)
        _fsync(tmp)
        standby.with_name(standby.name + ".wal").unlink(missing_ok=True)  # an old log must not replay on it
        os.replace(tmp, standby)
    except BaseException:
        tmp.unlink(missing_ok=True)  # e.g. the disk filled up: no half copy left behind
        raise


def _swap_in(standby: Path, published: Path) -> None:
    """Link ``standby`` over the published path (a copy where hard links are refused), then fsync the folders."""
    tmp = published.with_name(f".{published.name}.publishing")
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(standby, tmp)
        except OSError:  # another file system, or none of its own links
            shutil.copyfile(standby, tmp)
            _fsync(tmp)
        os.replace(tmp, published)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for folder in {published.parent, standby.parent}:
        _fsync(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
