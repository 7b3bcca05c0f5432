"""What publishing costs on a real warehouse: analyst-file size per document and the time of one publish.

Takes a published warehouse (and its raw store) that ``newsfacts run`` built, and measures:

- the analyst file: bytes, documents, bytes per document, and the raw store beside it;
- a whole-copy publish of that file (copy, fsync, link over the published path), best of two;
- the same two figures for the layout that kept raw pages inside the file, rebuilt from this warehouse by
  adding a ``raw`` column to ``raw_documents`` and ``quarantine`` filled from the raw store;
- with ``--documents N``: publishes that rewrite the documents changed since the standby copy's publish
  instead (``warehouse.publish``'s other way), three rounds, each after stamping N documents drawn at
  random (seed 7) as changed; the standby is two publishes behind, so a round rewrites up to 2 N documents.

    .venv/bin/python bench/publish_cost.py data/newsfacts.duckdb [--documents 2300]
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


def _publish_seconds(path: Path, tmp: Path, documents: int = 0) -> tuple[float, list[tuple[dict, float]]]:
    """Best whole-copy publish of a copy of ``path``; then, with ``documents``, (how, seconds) of three
    publishes that update the standby copy where :func:`warehouse.publish` does."""
    work = tmp / "work" / "working.duckdb"
    shutil.rmtree(work.parent, ignore_errors=True)
    work.parent.mkdir()
    shutil.copyfile(path, work)
    copies, rounds = [], []
    for _ in range(2):  # the first two publishes find no earlier copy: both copy the file whole
        started = time.perf_counter()
        assert warehouse.publish(work, tmp / "published.duckdb")["mode"] == "copy"
        copies.append(time.perf_counter() - started)
    for r in range(3 if documents else 0):
        con = duckdb.connect(str(work))
        con.execute(f"insert into {warehouse.PENDING} select doc_id from documents "
                    f"using sample {int(documents)} rows (reservoir, {7 + r})")
        warehouse.record_publish(con, f"publish-cost-{r}")
        con.execute(f"delete from {warehouse.PENDING}")
        con.close()
        started = time.perf_counter()
        how = warehouse.publish(work, tmp / "published.duckdb", warehouse.per_document_tables(Settings().sql_dir))
        rounds.append((how, time.perf_counter() - started))
    return min(copies), rounds


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
    documents = int(argv[argv.index("--documents") + 1]) if "--documents" in argv else 0
    argv = [a for i, a in enumerate(argv) if a != "--documents" and (i == 0 or argv[i - 1] != "--documents")]
    path = Path(argv[0]) if argv else Settings().warehouse
    store = RawStore(Settings().with_overrides(warehouse=str(path)).raw_store)
    con = duckdb.connect(str(path), read_only=True)
    docs = con.execute("select count(*) from documents").fetchone()[0]
    con.close()
    stored = sum(f.stat().st_size for f in store.root.rglob("*.gz"))
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp_name:
        tmp = Path(tmp_name)
        layouts = [("raw bytes in the raw store", path)]
        if store.root.exists():  # a copy made by bench/added_scale.py or transform_scale.py has no raw store
            layouts.append(("raw bytes inside the file", tmp / "raw-inside.duckdb"))
            _with_raw_inside(path, store, layouts[-1][1])
        for label, f in layouts:
            size = f.stat().st_size
            copy, rounds = _publish_seconds(f, tmp, documents if f == path else 0)
            print(f"{label:<28} analyst file {size / 2**20:8.1f} MiB, {size / docs / 1024:6.1f} KiB/document "
                  f"({docs} documents), whole-copy publish {copy:.2f} s (best of 2)")
            for how, seconds in rounds:
                print(f"{'':<28} publish: {seconds:.2f} s, " + (
                    f"{how['documents']} changed documents rewritten in the standby copy"
                    if how["mode"] == "documents" else f"whole copy ({how['reason']})"))
    if stored:
        print(f"raw store: {stored / 2**20:.1f} MiB, {stored / docs / 1024:.1f} KiB/document (gzip per page)")


if __name__ == "__main__":
    main(sys.argv[1:])
