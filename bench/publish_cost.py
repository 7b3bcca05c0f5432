"""What publishing costs on a real warehouse: analyst-file size per document and the time of one publish.

Takes a published warehouse (and its raw store) that ``newsfacts run`` built, and measures:

- the analyst file: bytes, documents, bytes per document, and the raw store beside it;
- ``warehouse.publish`` (copy, fsync, rename) of that file, best of three;
- the same two figures for the layout that kept raw pages inside the file, rebuilt from this warehouse by
  adding a ``raw`` column to ``raw_documents`` and ``quarantine`` filled from the raw store.

    .venv/bin/python bench/publish_cost.py data/newsfacts.duckdb
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flows"))

from newsfacts import warehouse  # noqa: E402
from newsfacts.config import Settings  # noqa: E402
from newsfacts.rawstore import RawStore  # noqa: E402


def _publish_seconds(path: Path, tmp: Path) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        warehouse.publish(path, tmp / "published.duckdb")
        best = min(best, time.perf_counter() - started)
    return best


def _with_raw_inside(path: Path, store: RawStore, out: Path) -> None:
    shutil.copyfile(path, out)
    con = duckdb.connect(str(out))
    for table in ("raw_documents", "quarantine"):
        hashes = [h for (h,) in con.execute(f"select distinct content_hash from {table} "
                                            "where content_hash is not null").fetchall()]
        con.execute(f"alter table {table} add column raw blob")
        con.register("_raw", pd.DataFrame({"h": hashes, "raw": [store.get(h) for h in hashes]}))
        con.execute(f"update {table} set raw = r.raw from _raw r where {table}.content_hash = r.h")
        con.unregister("_raw")
    con.execute("checkpoint")
    con.close()


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Settings().warehouse
    store = RawStore(Settings().with_overrides(warehouse=str(path)).raw_store)
    con = duckdb.connect(str(path), read_only=True)
    docs = con.execute("select count(*) from documents").fetchone()[0]
    con.close()
    stored = sum(f.stat().st_size for f in store.root.rglob("*.gz"))
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp_name:
        tmp = Path(tmp_name)
        inside = tmp / "raw-inside.duckdb"
        _with_raw_inside(path, store, inside)
        for label, f in (("raw bytes in the raw store", path), ("raw bytes inside the file", inside)):
            size = f.stat().st_size
            print(f"{label:<28} analyst file {size / 2**20:8.1f} MiB, {size / docs / 1024:6.1f} KiB/document "
                  f"({docs} documents), publish {_publish_seconds(f, tmp):.2f} s (best of 3)")
    print(f"raw store: {stored / 2**20:.1f} MiB, {stored / docs / 1024:.1f} KiB/document (gzip per page)")


if __name__ == "__main__":
    main(sys.argv[1:])
