"""The raw store: every input's bytes, kept outside the warehouse, addressed by their SHA-256.

The warehouse (``raw_documents``, ``quarantine``) holds only the content hash; the bytes live in
``NEWSFACTS_RAW_STORE`` (default ``data/newsfacts.raw/`` beside the warehouse) as one gzip file per
content, ``<hash[:2]>/<hash>.gz``. So the published analyst file holds facts and clean text only, and
publishing never copies pages already stored.

Why one compressed file per hash rather than Parquet files of many pages:

- a write is one new file, put in place by ``rename`` after an ``fsync``, so a run killed at any
  moment leaves either the whole object or none, and never rewrites an object it stored before
  (identical content has one name, so a second write of it is skipped);
- re-cleaning, a backfill and an audit read single pages by hash: one open, no index, no row-group scan;
- nothing ever needs compaction or a catalog, and the same keys map one-to-one onto an object store
  (``s3://bucket/raw/<hash[:2]>/<hash>.gz``) when one machine's disk is outgrown.

The cost is one file (an inode) per distinct page; gzip per page compresses HTML about 4-5× (less than
Parquet's column compression over many pages would). The flow writes a batch's bytes, and syncs them,
before the rows that name them are inserted, so a committed row never references missing bytes.
Objects whose rows were never committed (a run killed between the two) are harmless: the next run
that reads the same content finds them in place.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

LEVEL = 6  # gzip level: about as small as 9 on HTML, twice as fast


class MissingRaw(LookupError):
    """The store has no bytes for a hash the warehouse references."""


class CorruptRaw(ValueError):
    """The stored bytes no longer hash to their name."""


class RawStore:
    """Raw bytes by SHA-256 under ``root``; safe for one writer and any number of readers."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, content_hash: str) -> Path:
        return self.root / content_hash[:2] / f"{content_hash}.gz"

    def has(self, content_hash: str) -> bool:
        return self.path(content_hash).is_file()

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> dict[str, int]:
        """Store each (hash, bytes) not yet stored; the stored (compressed) size of every hash given.

        Each object is written to a temporary name, fsynced and renamed into place; the folders that
        gained a name are fsynced once at the end, so when this returns every object is on disk.
        """
        sizes: dict[str, int] = {}
        touched: set[Path] = set()
        for chash, raw in items:
            if chash in sizes:
                continue
            final = self.path(chash)
            with contextlib.suppress(FileNotFoundError):
                sizes[chash] = final.stat().st_size
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as fh:
                    fh.write(gzip.compress(bytes(raw), compresslevel=LEVEL, mtime=0))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            touched.add(final.parent)
            sizes[chash] = final.stat().st_size
        for folder in sorted(touched | ({self.root} if touched else set())):
            _fsync_dir(folder)
        return sizes

    def get(self, content_hash: str) -> bytes:
        """The bytes stored under ``content_hash``, checked against it."""
        try:
            packed = self.path(content_hash).read_bytes()
        except FileNotFoundError:
            raise MissingRaw(f"raw store {self.root} has no bytes for {content_hash}") from None
        raw = gzip.decompress(packed)
        if hashlib.sha256(raw).hexdigest() != content_hash:
            raise CorruptRaw(f"raw store object {self.path(content_hash)} does not hash to its name")
        return raw

    def missing(self, hashes: Iterable[str]) -> list[str]:
        """The hashes among ``hashes`` that have no stored bytes."""
        return [h for h in hashes if not self.has(h)]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_columns() where table_name = ? and column_name = ? "
                            "and database_name = current_database()", [table, column]).fetchone()[0])


def migrate(con: duckdb.DuckDBPyConnection, store: RawStore, chunk: int = 500) -> int:
    """Move raw bytes a warehouse still holds in ``raw`` columns into the store, then drop those columns.

    Bytes are stored (and synced) before the columns are dropped, in one transaction, so a run killed
    here leaves the warehouse as it was. Returns how many rows' bytes were moved.
    """
    moved = 0
    for table in ("raw_documents", "quarantine"):
        if not _has_column(con, table, "raw"):
            continue
        con.execute("begin")
        try:
            cur = con.execute(f"select content_hash, raw from {table} "
                              "where raw is not null and content_hash is not null")
            sizes: dict[str, int] = {}
            while rows := cur.fetchmany(chunk):
                sizes.update(store.put_many((h, bytes(r)) for h, r in rows))
                moved += len(rows)
            if table == "raw_documents" and sizes:
                con.register("_nf_sizes", pd.DataFrame({"h": list(sizes), "n": list(sizes.values())}))
                con.execute("update raw_documents set stored_bytes = s.n from _nf_sizes s "
                            "where raw_documents.content_hash = s.h")
                con.unregister("_nf_sizes")
            con.execute(f"alter table {table} drop column raw")
            con.execute("commit")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise
    return moved
