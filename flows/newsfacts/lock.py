"""The single-writer lock: DuckDB allows one writer process, so newsfacts runs take turns.

An advisory ``flock`` on a file in the working directory: the kernel releases it when the holder
exits, even after ``kill -9``, so a crashed run never leaves a stale lock behind. The file holds
who has it, for the message the second run prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class WriterBusy(RuntimeError):
    """Another run holds the warehouse's writer lock."""


@contextlib.contextmanager
def writer_lock(work_dir: Path, run_id: str, wait: float = 0.0, poll: float = 0.5) -> Iterator[Path]:
    """Hold the writer lock for the duration of the block, waiting up to ``wait`` seconds for it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "writer.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriterBusy(_busy_message(path, wait)) from None
                time.sleep(poll)
        holder = json.dumps({"pid": os.getpid(), "run_id": run_id,
                             "since": datetime.now(UTC).isoformat(timespec="seconds")})
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield path
    finally:
        os.close(fd)


def _busy_message(path: Path, waited: float) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    who = (f"pid {holder.get('pid')}, run {holder.get('run_id')}, since {holder.get('since')}"
           if holder else "another process")
    return (f"another newsfacts run is writing this warehouse ({who}); waited {waited:g} s. "
            f"Nothing was changed. Run again when it has published, or set NEWSFACTS_LOCK_WAIT=<seconds> "
            f"to wait for it (lock file: {path}).")
