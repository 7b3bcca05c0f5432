"""The raw store: every input's bytes, kept outside the warehouse, addressed by their SHA-256.

The warehouse (``raw_documents``, ``quarantine``) holds only the content hash; the bytes live in
``NEWSFACTS_RAW_STORE`` (default ``data/newsfacts.raw/`` beside the warehouse) as one gzip file per
content, ``<hash[:2]>/<hash>.gz``. So the published analyst file holds facts and clean text only, and
publishing never copies pages already stored.

Why one compressed file per hash rather than Parquet files of many pages:

- a write is one new file, written whole under a temporary name and put in place by ``rename``, so a
  run killed at any moment leaves either the whole object or none, and never rewrites an object it
  stored before (identical content has one name, so a second write of it is skipped); one ``syncfs``
  per batch makes a batch's objects durable;
- re-cleaning, a backfill and an audit read single pages by hash: one open, no index, no row-group scan;
- nothing ever needs compaction or a catalog, and the same keys map one-to-one onto an object store
  (``s3://bucket/raw/<hash[:2]>/<hash>.gz``) when one machine's disk is outgrown.

The cost is one file (an inode) per distinct page, and gzip per page compresses less than Parquet's
column compression over many pages would; input that arrives gzipped is kept as it came.

The flow writes a batch's bytes, and syncs them, before the rows that name them are inserted, so a
committed row never references missing bytes. Objects whose rows were never committed (a run killed
between the two) are harmless: the next run that reads the same content finds them in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd

LEVEL = 6  # gzip level: about as small as 9 on HTML, twice as fast
GZIP_MAGIC = b"\x1f\x8b"


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

        Each object is written whole to a temporary name and renamed into place (a killed process leaves
        the object or nothing); before returning, the store's file system is synced once (``syncfs``;
        one ``fsync`` per file and folder where that is missing), so every object is on disk before the
        caller commits a row that names it. Input that is gzip already is wrapped without recompressing.
        """
        sizes: dict[str, int] = {}
        written: list[Path] = []
        for chash, raw in items:
            if chash in sizes:
                continue
            final = self.path(chash)
            with contextlib.suppress(FileNotFoundError):
                sizes[chash] = final.stat().st_size
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
            raw = bytes(raw)
            try:
                with open(tmp, "wb") as fh:
                    fh.write(gzip.compress(raw, compresslevel=0 if raw[:2] == GZIP_MAGIC else LEVEL, mtime=0))
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            written.append(final)
            sizes[chash] = final.stat().st_size
        if written:
            _sync(self.root, written)
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


def _fsync(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        return 0
    finally:
        os.close(fd)


def _libc_syncfs():
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).syncfs
    return None


_SYNCFS = _libc_syncfs()


def _sync(root: Path, written: list[Path]) -> None:
    """Make the new objects and their names durable: one ``syncfs`` of the store's file system (Linux), else
    an ``fsync`` of every new file and of the folders that gained a name."""
    if _SYNCFS is not None:
        fd = os.open(root, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in written:
        _fsync(path)
    for folder in sorted({p.parent for p in written} | {root}):
        _fsync(folder)


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
