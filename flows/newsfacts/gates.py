"""Quality gates: a Great Expectations suite per table, validated on each stage's new batch.

GX's SQL data source is broken on DuckDB (GX issue #11579), so each gate runs the suite's
``meta.batch_query`` against the working database and validates the resulting DataFrame through
GX's pandas data source. Suites live as reviewable JSON in ``expectations/<table>.json``; every
validation is recorded in ``dq_results`` and rendered to GX Data Docs under ``data/gx``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

log = logging.getLogger(__name__)
SAMPLE_ROWS = 5
_undocumented: dict[str, list] = {}  # gx_root -> validation result ids not yet rendered to Data Docs


class GateFailed(RuntimeError):
    """A suite failed: the batch must not reach analysts."""


@dataclass
class GateResult:
    table: str
    stage: str
    success: bool
    rows: int
    failures: list[str]
    records: pd.DataFrame
    gx_root: str = ""

    def summary(self) -> str:
        state = "passed" if self.success else "FAILED"
        return f"{self.table}: {state} ({self.rows} rows)"


def load_suite(expectations_dir: Path, table: str) -> dict:
    path = expectations_dir / f"{table}.json"
    suite = json.loads(path.read_text())
    if "batch_query" not in suite.get("meta", {}):
        raise ValueError(f"{path}: meta.batch_query is missing")
    return suite


_CONTEXT_LOCK = threading.Lock()


def _context(gx_root: str):
    """One file-backed GX context per process (importing GX costs 5-9 s: do it once, lazily).

    Locked, because the flow warms it up in a background thread while the first gate may ask for it.
    """
    with _CONTEXT_LOCK:
        return _new_context(gx_root)


@lru_cache(maxsize=4)
def _new_context(gx_root: str):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="file", project_root_dir=gx_root)
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    ctx.variables.save()
    try:
        ctx.data_sources.get("newsfacts")
    except (KeyError, ValueError):
        ctx.data_sources.add_pandas("newsfacts")
    return ctx


def _checkpoint(gx_root: Path, suite_json: dict):
    """The checkpoint for one table, (re)created from the suite file so the JSON is the truth."""
    return _cached_checkpoint(str(gx_root), json.dumps(suite_json, sort_keys=True))


def _saved_digests(gx_root: str) -> Path:
    return Path(gx_root) / "gx" / "newsfacts_suite_digests.json"


@lru_cache(maxsize=64)
def _cached_checkpoint(gx_root: str, suite_text: str):
    """Saving a suite, validation definition and checkpoint writes several files (about 60 ms a suite):
    done when the suite file's content differs from the one last saved under this GX root (a digest
    recorded beside GX's own files), otherwise the saved checkpoint is read back (1 ms)."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    suite_json = json.loads(suite_text)
    ctx = _context(gx_root)
    name = suite_json["name"]
    digest = hashlib.sha256(suite_text.encode()).hexdigest()
    digests_path = _saved_digests(gx_root)
    digests = json.loads(digests_path.read_text()) if digests_path.exists() else {}
    if digests.get(name) == digest:
        try:
            return ctx.checkpoints.get(name)
        except Exception:  # noqa: BLE001 - GX's files were removed or edited: save them again below
            log.debug("checkpoint %s not readable, saving it again", name)
    ds = ctx.data_sources.get("newsfacts")
    try:
        asset = ds.get_asset(name)
    except LookupError:
        asset = ds.add_dataframe_asset(name=name)
    try:
        batch_def = asset.get_batch_definition("batch")
    except KeyError:
        batch_def = asset.add_batch_definition_whole_dataframe("batch")
    fields = {k: v for k, v in suite_json.items() if k in ("name", "expectations", "meta")}
    suite = ctx.suites.add_or_update(ExpectationSuite(**fields))
    vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch_def, suite=suite))
    checkpoint = ctx.checkpoints.add_or_update(gx.Checkpoint(
        name=name, validation_definitions=[vd],
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}))
    with _CONTEXT_LOCK:
        digests = json.loads(digests_path.read_text()) if digests_path.exists() else {}
        digests[name] = digest
        digests_path.write_text(json.dumps(digests, indent=1, sort_keys=True))
    return checkpoint


class Batch:
    """One gate run's batch, shared by the suites validated on it.

    ``{batch_keys}`` in a suite's batch query stands for the batch's keys (document ids, content hashes or
    run ids), ``{batch_documents}`` for the batch's rows of ``documents``. Those rows are copied once per
    gate run, found by row id: a semi-join on ``doc_id`` scans the whole body column (0.1 s at 20,000
    documents, once per suite), the row ids only the ids.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, keys: list[str] | None):
        self.con, self.keys = con, keys
        self._keys_loaded = self._documents_loaded = False

    def query(self, suite_json: dict) -> str:
        query = suite_json["meta"]["batch_query"]
        if "{batch_keys}" not in query and "{batch_documents}" not in query:
            return query
        if self.keys is None:
            raise ValueError(f"suite {suite_json['name']} validates a batch: pass its keys")
        if not self._keys_loaded:
            self.con.register("_gate_keys_df", pd.DataFrame({"k": pd.Series(list(self.keys), dtype="object")}))
            self.con.execute("create or replace temp table _gate_keys as select k::varchar as k from _gate_keys_df")
            self.con.unregister("_gate_keys_df")
            self._keys_loaded = True
        if "{batch_documents}" in query and not self._documents_loaded:
            rows = [r for (r,) in self.con.execute(
                "select rowid from documents where doc_id in (select k from _gate_keys)").fetchall()]
            where = f"rowid in ({', '.join(map(str, rows))})" if rows else "false"
            self.con.execute(f"create or replace temp table _gate_documents as select * from documents where {where}")
            self._documents_loaded = True
        return query.replace("{batch_keys}", "(select k from _gate_keys)").replace("{batch_documents}",
                                                                                   "_gate_documents")


def batch_frame(con: duckdb.DuckDBPyConnection, suite_json: dict, keys: list[str] | None,
                batch: Batch | None = None) -> pd.DataFrame:
    """Run the suite's batch query on this batch (see ``Batch``).

    Suites of per-document tables (facts included: the documents a transform rebuilt) filter on the
    batch; suites of the dimensions validate the whole table and do not use it.
    """
    return con.execute((batch or Batch(con, keys)).query(suite_json)).df()


def validate_all(con: duckdb.DuckDBPyConnection, tables: list[str], stage: str, run_id: str,
                 expectations_dir: Path, gx_root: Path, keys: list[str] | None = None,
                 slice_size: int | None = None) -> list[GateResult]:
    """Validate each table's rows of one batch.

    With ``slice_size``, a suite that reads the batch validates ``slice_size`` keys at a time (one result
    each), so a transform that rebuilt every document of a large warehouse never holds all its facts in
    one DataFrame; every expectation is per row or per document, so slices decide what the whole would."""
    if not slice_size or keys is None or len(keys) <= slice_size:
        batch = Batch(con, keys)
        return [validate(con, t, stage, run_id, expectations_dir, gx_root, keys, batch) for t in tables]
    results = []
    for t in tables:
        query = load_suite(expectations_dir, t)["meta"]["batch_query"]
        if "{batch_keys}" in query or "{batch_documents}" in query:
            results += [validate(con, t, stage, run_id, expectations_dir, gx_root, keys[i:i + slice_size])
                        for i in range(0, len(keys), slice_size)]
        else:
            results.append(validate(con, t, stage, run_id, expectations_dir, gx_root, keys))
    return results


def validate(con: duckdb.DuckDBPyConnection, table: str, stage: str, run_id: str, expectations_dir: Path,
             gx_root: Path, keys: list[str] | None = None, batch: Batch | None = None) -> GateResult:
    """Validate one table's batch; the outcome carries one ``dq_results`` row per expectation."""
    suite_json = load_suite(expectations_dir, table)
    df = batch_frame(con, suite_json, keys, batch)
    checkpoint = _checkpoint(gx_root, suite_json)
    result = checkpoint.run(batch_parameters={"dataframe": df})
    _undocumented.setdefault(str(gx_root), []).extend(result.run_results)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows, failures = [], []
    for vr in result.run_results.values():
        for er in vr.results:
            cfg = er.expectation_config
            res = er.result or {}
            sample = res.get("partial_unexpected_list") or res.get("observed_value")
            column = cfg.kwargs.get("column") or ",".join(
                str(cfg.kwargs[k]) for k in ("column_A", "column_B") if k in cfg.kwargs) or None
            rows.append(dict(run_id=run_id, validated_at=now, stage=stage, table_name=table,
                             expectation=cfg.type, column_name=column, success=bool(er.success),
                             element_count=res.get("element_count", len(df)),
                             unexpected_count=res.get("unexpected_count"),
                             sample=json.dumps(sample, default=str, ensure_ascii=False)[:2000]
                             if sample is not None else None))
            if not er.success:
                failures.append(f"{table}: {cfg.type}({column or ''}) failed"
                                f" — {res.get('unexpected_count', '?')} unexpected, e.g. {rows[-1]['sample']}")
    gate = GateResult(table=table, stage=stage, success=bool(result.success), rows=len(df), failures=failures,
                      records=pd.DataFrame(rows), gx_root=str(gx_root))
    log.info("gate %s", gate.summary())
    return gate


def record(con: duckdb.DuckDBPyConnection, gates: list[GateResult]) -> None:
    """Append the gates' expectation results to ``dq_results``."""
    frames = [g.records for g in gates if len(g.records)]
    if frames:
        frame = pd.concat(frames, ignore_index=True)
        con.register("_dq_rows", frame)
        con.execute(f"insert into dq_results ({', '.join(frame.columns)}) select * from _dq_rows")
        con.unregister("_dq_rows")


def require(gate: GateResult) -> GateResult:
    """Stop the run on a failed gate, naming the table, the expectation and sample rows."""
    if not gate.success:
        if gate.gx_root:
            build_data_docs(Path(gate.gx_root))
        raise GateFailed(f"quality gate failed at stage '{gate.stage}' on table '{gate.table}':\n  "
                         + "\n  ".join(gate.failures))
    return gate


def build_data_docs(gx_root: Path) -> None:
    """Render the Data Docs pages of the validations run since the last build, and the index.

    Rendering is batched here instead of after every validation: re-rendering the index once per
    batch and table cost more than the validations themselves.
    """
    ids = _undocumented.pop(str(gx_root), [])
    if ids:
        _context(str(gx_root)).build_data_docs(
            resource_identifiers=[*ids, *{i.expectation_suite_identifier for i in ids}])


def warm_up(gx_root: Path) -> None:
    """Import GX and open the context ahead of the first gate (safe to call from a background thread)."""
    try:
        _context(str(gx_root))
    except Exception as exc:  # noqa: BLE001 - the first real gate will raise it properly
        log.debug("GX warm-up failed: %s", exc)


def data_docs_index(gx_root: Path) -> Path:
    """The Data Docs index, with every validation run so far in this process rendered."""
    build_data_docs(gx_root)
    return gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
