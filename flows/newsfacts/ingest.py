"""Ingest: list a source folder, read each file once, and account for every input.

Every listed file ends up in exactly one place: a new ``raw_documents`` row, an ``unchanged``
skip (its content hash was already processed), a ``duplicate`` of another file in the same run,
or a ``quarantine`` row with a reason a person understands.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
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


class TooLarge(OSError):
    def __init__(self, size: int):
        super().__init__(f"{size} bytes")
        self.size = size


class NotRegular(OSError):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


_KINDS = ((stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"))


def file_stamp(st: os.stat_result) -> str:
    """What identifies a file's current contents without reading them: size, modification and change
    times (ns) and inode. Any write changes the change time, which no user can set back."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def read_bounded(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """The file's bytes, never more than ``max_bytes``, and its :func:`file_stamp` when opened.

    Opened non-blocking and checked with fstat on the open descriptor, so a named pipe or device with an
    article's name cannot hang or flood the run, and a file that grows after listing is still capped.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegular(next((k for test, k in _KINDS if test(st.st_mode)), "special file"))
    with open(fd, "rb", closefd=True) as fh:
        if st.st_size > max_bytes:
            raise TooLarge(st.st_size)
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise TooLarge(len(raw))
    return raw, file_stamp(st)


def input_file_row(run_id: str, uri: str, chash: str | None, size: int | None, status: str, seen_at: datetime,
                   stamp: str | None = None) -> dict:
    """One ``input_files`` row: what a run did with one listed input."""
    return dict(run_id=run_id, source_uri=uri, content_hash=chash, size_bytes=size, status=status, seen_at=seen_at,
                file_stamp=stamp)


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

    def account(uri, chash, size, status, stamp=None):
        out.input_files.append(input_file_row(run_id, uri, chash, size, status, now, stamp))

    def reject(uri, chash, size, raw, reason, stamp=None):
        log.warning("quarantined %s: %s", uri, reason)
        out.quarantine.append(dict(source_uri=uri, content_hash=chash, stage="ingest", reason=reason,
                                   raw=raw, quarantined_at=now, run_id=run_id))
        account(uri, chash, size, "quarantined", stamp)

    def ingest_one(uri: str, path: Path | None, problem: str | None) -> None:
        if problem:
            return reject(uri, None, None, None, problem)
        try:
            raw, stamp = read_bounded(path, max_file_bytes)
        except FileNotFoundError:
            return reject(uri, None, None, None, "file disappeared between listing and reading")
        except TooLarge as exc:
            return reject(uri, None, exc.size, None, f"file too large: {exc.size} bytes > limit {max_file_bytes}"
                          " (raw bytes not kept; the file stays at its source)")
        except NotRegular as exc:
            return reject(uri, None, None, None, f"not a regular file ({exc.kind}); nothing read")
        except OSError as exc:
            return reject(uri, None, None, None, f"unreadable file: {exc.strerror or exc}")
        chash = content_hash(raw)
        if chash in seen:
            return account(uri, chash, len(raw), "duplicate", stamp)
        seen.add(chash)
        if chash in processed and not force:
            return account(uri, chash, len(raw), "unchanged", stamp)
        try:
            payload = read_payload(raw, path.name, max_decompressed_bytes)
            media_type = sniff_media_type(payload, path.name.removesuffix(".gz"))
            _, encoding = decode(payload)
        except BadInput as exc:
            return reject(uri, chash, len(raw), raw, exc.reason, stamp)
        out.raw_documents.append(dict(content_hash=chash, source_uri=uri, size_bytes=len(raw),
                                      media_type=media_type, detected_encoding=encoding, raw=raw,
                                      ingested_at=now, run_id=run_id))
        account(uri, chash, len(raw), "loaded", stamp)

    for uri, path, problem in items:
        try:
            ingest_one(uri, path, problem)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the run
            reject(uri, None, None, None, f"unexpected error while reading: {type(exc).__name__}: {exc}")
    return out


def screen_unchanged(items: list[tuple[str, Path | None, str | None]], known: dict[str, tuple[str, str]],
                     seen: set[str], run_id: str) -> tuple[list[tuple[str, Path | None, str | None]], list[dict]]:
    """Split listed inputs into those to read and ``input_files`` rows for those not worth reading.

    ``known`` maps a source to the stamp and content hash an earlier run read from it, for hashes already
    processed. A file whose :func:`file_stamp` still matches holds those bytes: it is accounted for as
    unchanged (or as a duplicate of an earlier file of this run) without being opened, so a run over an
    unchanged corpus costs a ``stat`` per file. Everything else is read and hashed as usual.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    to_read, rows = [], []
    for item in items:
        uri, path, problem = item
        prior = known.get(uri) if path is not None and not problem else None
        if prior is not None:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is not None and stat.S_ISREG(st.st_mode) and file_stamp(st) == prior[0]:
                chash = prior[1]
                status = "duplicate" if chash in seen else "unchanged"
                seen.add(chash)
                rows.append(input_file_row(run_id, uri, chash, st.st_size, status, now, prior[0]))
                continue
        to_read.append(item)
    return to_read, rows
