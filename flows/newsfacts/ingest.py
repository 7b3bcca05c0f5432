"""Ingest: list a source folder, read each file once, and account for every input.

Every listed file ends up in exactly one place: a new ``raw_documents`` row, an ``unchanged``
skip (its content hash was already processed), a ``duplicate`` of another file in the same run,
or a ``quarantine`` row with a reason a person understands.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from newsfacts.encoding import BadInput, decode, read_payload, sniff_media_type

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".html", ".htm", ".html.gz", ".htm.gz", ".txt.gz")


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def doc_id_for(chash: str) -> str:
    """Documents are keyed by content: the same bytes under two names are one document."""
    return chash[:16]


def list_inputs(source: Path) -> Iterator[tuple[str, Path | None, str | None]]:
    """Yield (source_uri, path, problem) for every file under ``source``, sorted, depth first.

    Symbolic links are followed only when they stay inside ``source`` (no escape, no loops);
    a problem found while listing is reported with the file rather than raised.
    """
    root = source.resolve()
    seen_dirs: set[tuple[int, int]] = set()

    def walk(directory: Path) -> Iterator[tuple[str, Path | None, str | None]]:
        try:
            st = directory.stat()
            if (st.st_dev, st.st_ino) in seen_dirs:
                yield str(directory), None, "symbolic-link loop: folder already visited"
                return
            seen_dirs.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield str(directory), None, f"cannot list folder: {exc.strerror or exc}"
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError) as exc:
                yield str(path), None, f"unreadable path (broken or looping link): {exc}"
                continue
            if real != root and root not in real.parents:
                yield str(path), None, "link points outside the source folder"
                continue
            if entry.is_dir():
                yield from walk(path)
            elif not entry.name.lower().endswith(SUFFIXES):
                yield str(path), None, f"unsupported file type (expected one of {', '.join(SUFFIXES)})"
            else:
                yield str(path), path, None

    yield from walk(root)


@dataclass
class IngestBatch:
    """What one batch of inputs became: plain rows for the warehouse."""

    raw_documents: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    input_files: list[dict] = field(default_factory=list)


def ingest_batch(items: list[tuple[str, Path | None, str | None]], processed: set[str], seen: set[str],
                 run_id: str, max_file_bytes: int, max_decompressed_bytes: int,
                 force: bool = False) -> IngestBatch:
    """Read, hash and classify a batch of listed inputs.

    ``processed`` holds content hashes finished by earlier runs (skipped as unchanged unless
    ``force``); ``seen`` collects this run's hashes, so a second copy is a duplicate, not a document.
    """
    out = IngestBatch()
    now = datetime.now(UTC).replace(tzinfo=None)

    def account(uri, chash, size, status):
        out.input_files.append(dict(run_id=run_id, source_uri=uri, content_hash=chash, size_bytes=size,
                                    status=status, seen_at=now))

    def reject(uri, chash, size, raw, reason):
        log.warning("quarantined %s: %s", uri, reason)
        out.quarantine.append(dict(source_uri=uri, content_hash=chash, stage="ingest", reason=reason,
                                   raw=raw, quarantined_at=now, run_id=run_id))
        account(uri, chash, size, "quarantined")

    def ingest_one(uri: str, path: Path | None, problem: str | None) -> None:
        if problem:
            return reject(uri, None, None, None, problem)
        try:
            size = path.stat().st_size
            if size > max_file_bytes:
                return reject(uri, None, size, None, f"file too large: {size} bytes > limit {max_file_bytes}"
                              " (raw bytes not kept; the file stays at its source)")
            raw = path.read_bytes()
        except FileNotFoundError:
            return reject(uri, None, None, None, "file disappeared between listing and reading")
        except OSError as exc:
            return reject(uri, None, None, None, f"unreadable file: {exc.strerror or exc}")
        chash = content_hash(raw)
        if chash in seen:
            return account(uri, chash, len(raw), "duplicate")
        seen.add(chash)
        if chash in processed and not force:
            return account(uri, chash, len(raw), "unchanged")
        try:
            payload = read_payload(raw, path.name, max_decompressed_bytes)
            media_type = sniff_media_type(payload, path.name.removesuffix(".gz"))
            _, encoding = decode(payload)
        except BadInput as exc:
            return reject(uri, chash, len(raw), raw, exc.reason)
        out.raw_documents.append(dict(content_hash=chash, source_uri=uri, size_bytes=len(raw),
                                      media_type=media_type, detected_encoding=encoding, raw=raw,
                                      ingested_at=now, run_id=run_id))
        account(uri, chash, len(raw), "loaded")

    for uri, path, problem in items:
        try:
            ingest_one(uri, path, problem)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the run
            reject(uri, None, None, None, f"unexpected error while reading: {type(exc).__name__}: {exc}")
    return out
