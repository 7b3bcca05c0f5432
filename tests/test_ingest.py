"""Ingest on small fixed folders: accounting, duplicates, unchanged skips, bad inputs."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from newsfacts import ingest

LIMITS = dict(max_file_bytes=10_000, max_decompressed_bytes=50_000)


def _run(folder: Path, processed=None, force=False):
    items = list(ingest.list_inputs(folder))
    return ingest.ingest_batch(items, processed or set(), set(), "run-1", force=force, **LIMITS)


def _status(batch, name):
    return [f["status"] for f in batch.input_files if f["source_uri"].endswith(name)]


def test_every_input_is_accounted_for(tmp_path):
    (tmp_path / "a.txt").write_text("Headline\nBody text about Kyiv.\n")
    (tmp_path / "copy.txt").write_text("Headline\nBody text about Kyiv.\n")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(b"<html><body><p>Hello world.</p></body></html>"))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "huge.txt").write_bytes(b"x" * 20_000)
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b"a" * 200_000))
    batch = _run(tmp_path)
    assert len(batch.input_files) == 8
    assert _status(batch, "a.txt") == ["loaded"]
    assert _status(batch, "copy.txt") == ["duplicate"]
    assert _status(batch, "page.html.gz") == ["loaded"]
    for name in ("empty.txt", "image.html", "notes.pdf", "huge.txt", "bomb.html.gz"):
        assert _status(batch, name) == ["quarantined"], name
    reasons = {q["source_uri"].rsplit("/", 1)[-1]: q["reason"] for q in batch.quarantine}
    assert "empty" in reasons["empty.txt"].lower()
    assert "too large" in reasons["huge.txt"]
    assert "unsupported file type" in reasons["notes.pdf"]
    assert len(batch.raw_documents) == 2
    page = next(r for r in batch.raw_documents if r["source_uri"].endswith("page.html.gz"))
    assert page["media_type"] == "html" and page["raw"].startswith(b"\x1f\x8b")


def test_unchanged_content_is_skipped_unless_forced(tmp_path):
    (tmp_path / "a.txt").write_text("Headline\nBody.\n")
    first = _run(tmp_path)
    processed = {r["content_hash"] for r in first.raw_documents}
    assert _status(_run(tmp_path, processed), "a.txt") == ["unchanged"]
    assert _status(_run(tmp_path, processed, force=True), "a.txt") == ["loaded"]


def test_links_never_escape_the_source_and_loops_are_reported(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "ok.txt").write_text("Headline\nBody.\n")
    os.symlink(outside, src / "escape.txt")
    os.symlink(src, src / "sub" / "loop")
    batch = _run(src)
    assert _status(batch, "ok.txt") == ["loaded"]
    assert _status(batch, "escape.txt") == ["quarantined"]
    assert any("outside the source" in q["reason"] for q in batch.quarantine)
    assert any("loop" in q["reason"] for q in batch.quarantine)
    assert not any(r["source_uri"].endswith("outside.txt") for r in batch.raw_documents)


def test_file_vanishing_between_listing_and_reading(tmp_path):
    (tmp_path / "gone.txt").write_text("Headline\nBody.\n")
    items = list(ingest.list_inputs(tmp_path))
    (tmp_path / "gone.txt").unlink()
    batch = ingest.ingest_batch(items, set(), set(), "run-1", **LIMITS)
    assert batch.quarantine[0]["reason"] == "file disappeared between listing and reading"


def test_unchanged_stamp_skips_reading_and_any_write_is_noticed(tmp_path):
    """A file whose stamp matches the run that read it is accounted for without opening it; rewriting it,
    even with the same size and its old modification time put back, changes the stamp (change time)."""
    art = tmp_path / "a.txt"
    art.write_text("Headline\nBody text about Kyiv.\n")
    (tmp_path / "copy.txt").write_text("Headline\nBody text about Kyiv.\n")
    first = _run(tmp_path)
    known = {f["source_uri"]: (f["file_stamp"], f["content_hash"]) for f in first.input_files}
    items = list(ingest.list_inputs(tmp_path))
    to_read, rows = ingest.screen_unchanged(items, known, set(), "run-2")
    assert to_read == []
    assert sorted(r["status"] for r in rows) == ["duplicate", "unchanged"]
    assert {r["content_hash"] for r in rows} == {first.input_files[0]["content_hash"]}

    before = os.stat(art)
    art.write_text("Headline\nBody text about Kiev.\n")  # same size
    os.utime(art, ns=(before.st_atime_ns, before.st_mtime_ns))
    to_read, rows = ingest.screen_unchanged(items, known, set(), "run-2")
    assert [uri for uri, _, _ in to_read] == [str(art)]
    assert [r["source_uri"] for r in rows] == [str(tmp_path / "copy.txt")]
    again = ingest.ingest_batch(to_read, {first.input_files[0]["content_hash"]}, set(), "run-2", **LIMITS)
    assert [f["status"] for f in again.input_files] == ["loaded"]
