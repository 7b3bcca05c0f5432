"""New documents into a large warehouse through the real flow, in minutes instead of a 20,000-page bench.

Copies the working database of any run (``.NAME.work/working.duckdb``; ``make bench``'s with ``--keep``),
repeats its documents' stage rows ``--copies`` times under new ids (as ``transform_scale.py`` does), builds
every SQL model once and marks that build as the last published one (the two copies publishing keeps hold
it, as in a warehouse that has published before), then times ``--rounds`` runs of the
flow, each on a fresh copy of that warehouse, on the same ``--added`` new pages of the bench corpus
(``make_corpus``'s unique pages, numbered past any corpus ``make bench`` builds). Start-up is done before
the rounds, as ``make bench`` reports it apart; each round prints its wall time, the run's stage seconds
and the rest of the flow run (gates outside the stages, the commit and checkpoint, data docs, the report).

The repeated documents make the warehouse as large as a long-running one but with fewer distinct names,
so the dimensions are smaller than a real corpus of that size would give; compare rounds of two commits
on the same copy, not with ``make bench``'s figures.

usage: .venv/bin/python bench/added_scale.py WORKING.duckdb [--copies 20] [--added 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flows"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_pipeline import bound_seconds, load_for_run, new_documents  # noqa: E402

FIRST_ADDED = 1_000_000  # document numbers no bench corpus reaches: new text, new content hashes


def prepare(working: Path, out: Path, copies: int) -> int:
    """``out/working.duckdb`` and ``out/intermediate.duckdb``: the copy, repeated and fully transformed."""
    import duckdb
    from newsfacts import runs, warehouse
    from newsfacts.config import Settings
    from transform_scale import replicate, transform

    settings = Settings()
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(working, out / "working.duckdb")
    warehouse.move_intermediate_out(out / "working.duckdb", settings.sql_dir)
    con = warehouse.connect(out / "working.duckdb", settings.gazetteer, memory_limit=settings.duckdb_memory)
    warehouse.attach_intermediate(con, out / "intermediate.duckdb")
    con.execute(warehouse.SCHEMA.read_text())
    replicate(con, copies)
    # the copy stands as the current code made it: a working file of an older pipeline version would
    # otherwise be recleaned whole by the round (its raw bytes are not copied), which is not what is timed
    from newsfacts import gazetteer
    from newsfacts.config import PIPELINE_VERSION
    con.execute("update documents set pipeline_version = $1, entities_version = $1, ner_model = $2, "
                "gazetteer_version = $3", [PIPELINE_VERSION, runs.ner_model_version(settings.spacy_model),
                                            gazetteer.ensure_gazetteer(settings.gazetteer)])
    warehouse.reset_incremental(con, settings.sql_dir)
    transform(con, settings.sql_dir)
    # the models now stand as the current code builds them: the next run may rebuild only what it changes
    con.execute("update pipeline_runs set models_version = ? where status = 'published'",
                [runs.models_version(settings)])
    # ...and as published once: both copies publishing keeps beside the working file hold that state, as
    # they do in a warehouse that has published before, so a round publishes as such a warehouse does
    con.execute(f"insert into {warehouse.PENDING} select doc_id from documents")
    warehouse.record_publish(con, "added-scale-prepared")
    con.execute(f"delete from {warehouse.PENDING}")
    documents = con.execute("select count(*) from documents").fetchone()[0]
    con.close()
    duckdb.connect(str(out / "intermediate.duckdb")).close()
    for name in warehouse.COPIES:
        shutil.copyfile(out / "working.duckdb", out / name)
    return documents


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("working", type=Path)
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--added", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsfacts-added-") as tmp:
        tmp = Path(tmp)
        documents = prepare(args.working, tmp / "prepared", args.copies)
        source = new_documents(tmp / "inbox", FIRST_ADDED, args.added, args.shared)
        from newsfacts.api import prefect_api
        from newsfacts.config import Settings

        target = tmp / "added.duckdb"
        settings = Settings().with_overrides(source=str(source), warehouse=str(target))
        api = prefect_api(settings)
        ready = api.__enter__()
        try:
            from newsfacts import warehouse
            from newsfacts.flow import newsfacts_flow

            load_for_run(settings)
            ready()
            walls: list[float] = []
            for r in range(args.rounds):
                shutil.rmtree(settings.work_dir, ignore_errors=True)
                shutil.rmtree(settings.raw_store, ignore_errors=True)
                target.unlink(missing_ok=True)
                shutil.copytree(tmp / "prepared", settings.work_dir)
                os.link(settings.work_dir / warehouse.COPIES[0], target)  # published; the other is the standby
                started = time.monotonic()
                run = newsfacts_flow(source=str(source), warehouse_path=str(target))
                wall = time.monotonic() - started
                stages = {k: round(v, 2) for k, v in run["stage_seconds"].items()}
                print(json.dumps({"round": r, "documents_before": documents, "loaded": run["loaded"],
                                  "wall_s": round(wall, 1), "stage_s": stages, "publish": run["publish_mode"],
                                  "outside_stages_s": round(wall - sum(stages.values()), 1)}), flush=True)
                walls.append(wall)
            # the same pages' bound right after the rounds, in this process: the 30 s target is absolute,
            # this says how much of it the machine's own extraction and NER of those pages take
            bound = bound_seconds(source, settings.work_dir / "working.duckdb", settings.spacy_model,
                                  only_source=True)
            print(json.dumps({"added_bound": {k: round(v, 2) if isinstance(v, float) else v for k, v in bound.items()},
                              "best_round_over_bound": round(min(walls) / bound["bound"], 2)}), flush=True)
        finally:
            api.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
